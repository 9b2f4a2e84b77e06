import Foundation

/// `releases.json` in the state directory: per service, the last-known-good revisions (oldest
/// first) whose images stay tagged `REPOSITORY:botops-REV12`. A revision enters only after the
/// nine checks passed on it, so a failed revision never takes a slot.
public struct Releases: Codable, Sendable, Equatable {
    public struct Release: Codable, Sendable, Equatable {
        public var revision: String
        public var branch: String?
        public var image: String
        /// Epoch seconds when it was recorded.
        public var recordedAt: Int

        enum CodingKeys: String, CodingKey {
            case revision, branch, image
            case recordedAt = "recorded_at"
        }
    }

    public var services: [String: [Release]] = [:]

    public init() {}

    static func parse(_ text: String) -> Releases {
        (try? JSONDecoder().decode(Releases.self, from: Data(text.utf8))) ?? Releases()
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }

    /// The kept image's tag for a revision of an image: same repository, tag `botops-` + 12 hex digits.
    public static func keptTag(image: String, revision: String) -> String {
        repository(of: image) + ":botops-" + revision.prefix(12)
    }

    /// `registry:5000/team/app:tag` → `registry:5000/team/app`; digests are dropped too.
    static func repository(of image: String) -> String {
        let withoutDigest = image.split(separator: "@", maxSplits: 1).first.map(String.init) ?? image
        guard let colon = withoutDigest.lastIndex(of: ":"), !withoutDigest[colon...].contains("/") else { return withoutDigest }
        return String(withoutDigest[..<colon])
    }

    /// Records `release` as the newest good one of `service`; returns the tags that fell out of
    /// the last `keep` and may be removed.
    mutating func record(_ release: Release, service: String, keep: Int) -> [String] {
        var list = services[service, default: []].filter { $0.revision != release.revision }
        list.append(release)
        let dropped = list.dropLast(keep).map(\.image)
        services[service] = Array(list.suffix(keep))
        let kept = Set(services[service, default: []].map(\.image))
        return dropped.filter { !kept.contains($0) }
    }

    /// The good release before the newest, for `rollback --to previous`.
    func previous(of service: String) -> Release? {
        let list = services[service, default: []]
        return list.count >= 2 ? list[list.count - 2] : nil
    }
}
