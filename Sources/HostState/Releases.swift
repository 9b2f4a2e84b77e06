import Basics
import Foundation

/// `releases.json` in the state directory: per service, the releases (oldest first) whose images
/// stay tagged `REPOSITORY:botops-REV12`. A revision enters only after a deploy's checks ran on
/// it, so a failed revision never takes a slot; one whose checks were skipped enters unverified.
public struct Releases: Codable, Sendable, Equatable {
    public struct Release: Codable, Sendable, Equatable {
        public var revision: String
        public var branch: String?
        /// The kept tag.
        public var image: String
        /// The image the tag named when it was recorded: a rollback uses the tag only while it
        /// still names this image. Absent in records written before botops kept it.
        public var imageID: String?
        /// false: checks were skipped after the deploy, so it is never last-known-good.
        /// Absent in older records, which were all verified.
        public var verified: Bool?
        /// Epoch seconds when it was recorded.
        public var recordedAt: Int

        enum CodingKeys: String, CodingKey {
            case revision, branch, image, verified
            case imageID = "image_id"
            case recordedAt = "recorded_at"
        }

        public init(revision: String, branch: String? = nil, image: String, imageID: String? = nil, verified: Bool? = nil, recordedAt: Int) {
            self.revision = revision
            self.branch = branch
            self.image = image
            self.imageID = imageID
            self.verified = verified
            self.recordedAt = recordedAt
        }

        public var isVerified: Bool { verified != false }
    }

    public var services: [String: [Release]] = [:]

    public init() {}

    /// `{}` (no file yet) is no releases.
    public init(from decoder: Decoder) throws {
        services = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent([String: [Release]].self, forKey: .services) ?? [:]
    }

    /// The text the preflight read: `{}` when there is no file yet. Anything else that is not a
    /// record botops wrote is refused: replacing it would lose every kept release.
    public static func parse(_ text: String, file: String) throws -> Releases {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            return try JSONDecoder().decode(Releases.self, from: Data(trimmed.utf8))
        } catch {
            // cat's own complaint (permission denied) says more than the decoder; file content is never shown.
            let detail = trimmed.hasPrefix("cat:") ? String(trimmed.split(separator: "\n")[0].prefix(200))
                : trimmed.isEmpty ? "it is empty" : "it is not the JSON botops writes (\(trimmed.utf8.count) bytes)"
            throw HostStateError.releasesUnreadable(file: file, detail: detail)
        }
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }

    /// The kept image's tag for a revision of an image: same repository, tag `botops-` + 12 hex digits.
    public static func keptTag(image: String, revision: String) -> String {
        repository(of: image) + ":botops-" + revision.prefix(12)
    }

    /// The tag to keep `imageID` under for `revision`: the revision's tag, unless that already
    /// names another image (another service's history moved on, or the revision was rebuilt);
    /// then a tag of its own, so a kept tag is never moved to a different image.
    public static func tagToKeep(image: String, revision: String, imageID: String, taggedNow: String?) -> String {
        let tag = keptTag(image: image, revision: revision)
        guard let taggedNow, taggedNow != imageID else { return tag }
        return tag + "-" + shortImageID(imageID)
    }

    /// `sha256:0123…` → its first 12 hex digits.
    public static func shortImageID(_ id: String) -> String {
        String((id.split(separator: ":").last.map(String.init) ?? id).prefix(12))
    }

    /// `registry:5000/team/app:tag` → `registry:5000/team/app`; digests are dropped too.
    static func repository(of image: String) -> String {
        let withoutDigest = image.split(separator: "@", maxSplits: 1).first.map(String.init) ?? image
        guard let colon = withoutDigest.lastIndex(of: ":"), !withoutDigest[colon...].contains("/") else { return withoutDigest }
        return String(withoutDigest[..<colon])
    }

    /// Records `release` as the newest of `service`; returns the tags that fell out of the last
    /// `keep` and may be removed.
    public mutating func record(_ release: Release, service: String, keep: Int) -> [String] {
        let replaced = services[service, default: []].filter { $0.revision == release.revision }.map(\.image)
        var list = services[service, default: []].filter { $0.revision != release.revision }
        list.append(release)
        let dropped = list.dropLast(keep).map(\.image) + replaced
        services[service] = Array(list.suffix(keep))
        let kept = Set(services[service, default: []].map(\.image))
        return dropped.filter { !kept.contains($0) }
    }

    /// The image a release's tag was recorded for; for older records, what the tag names now.
    public static func imageID(of release: Release, tagged: [String: String]) -> String? {
        release.imageID ?? tagged[release.image]
    }

    /// The newest recorded release of `service` whose image is `imageID` (what its container runs).
    public func release(of service: String, runningImage imageID: String, tagged: [String: String]) -> Release? {
        services[service, default: []].last { Self.imageID(of: $0, tagged: tagged) == imageID }
    }

    /// The recorded release of `service` at `revision`.
    public func release(of service: String, revision: String) -> Release? {
        services[service, default: []].last { $0.revision == revision }
    }

    /// `rollback --to previous` for one service: the newest verified release recorded before the
    /// one its container runs (found by image; by `checkout` when the image was never recorded).
    public func previous(of service: String, runningImage imageID: String?, checkout: String, tagged: [String: String]) -> Release? {
        let list = services[service, default: []]
        let runningIndex = list.lastIndex { release in
            if let imageID, let recorded = Self.imageID(of: release, tagged: tagged) { return recorded == imageID }
            return release.revision == checkout
        }
        let running = runningIndex.map { list[$0].revision } ?? checkout
        return list[..<(runningIndex ?? list.endIndex)].last { $0.isVerified && $0.revision != running }
    }

    /// `rollback --to previous` for every named service: their previous releases must be one
    /// revision, since the services share one checkout.
    public func previous(of services: [String], running: [String: String], checkout: String, tagged: [String: String]) throws -> Release {
        var found: [(service: String, release: Release?)] = []
        for service in services {
            found.append((service, previous(of: service, runningImage: running[service], checkout: checkout, tagged: tagged)))
        }
        let missing = found.filter { $0.release == nil }.map(\.service)
        if !missing.isEmpty {
            throw HostStateError.noPreviousRelease(services: missing)
        }
        let releases = found.compactMap(\.release)
        guard let first = releases.first else { throw HostStateError.noPreviousRelease(services: services) }
        if releases.contains(where: { $0.revision != first.revision }) {
            throw HostStateError.previousReleasesDiffer(services: found.map(\.service), revisions: releases.map(\.revision))
        }
        return first
    }
}
