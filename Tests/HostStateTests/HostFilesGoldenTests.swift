import Foundation
@testable import HostState
import SandboxSupport
import Testing

/// The files botops keeps on a host (audit.jsonl, holder.json, releases.json), byte for byte as
/// this botops writes them, and read back unchanged: a host deployed by an earlier botops must stay
/// readable by the next. A change to a golden file is a change of the host's format: it needs a
/// reader for the old one first. `BOTOPS_RECORD_GOLDEN=1` writes a missing golden file, and that run fails (review it, run again).
struct HostFilesGoldenTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// Compares `written` with the golden file `name` (GoldenFile: a missing one fails, recorded or not).
    static func expectGolden(_ name: String, _ written: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if let mismatch = try GoldenFile.mismatch(golden.appendingPathComponent(name), written) {
            Issue.record(Comment(rawValue: mismatch), sourceLocation: sourceLocation)
        }
    }

    static func read(_ name: String) throws -> String {
        try String(contentsOf: golden.appendingPathComponent(name), encoding: .utf8)
    }

    /// A deploy that failed and rolled back, every field set.
    static var rolledBack: AuditRecord {
        var record = AuditRecord(action: "deploy", command: "botops deploy --service sighook --ref main", result: "rolled-back",
                                 services: ["sighook"], time: Date(timeIntervalSince1970: 1_795_375_904))
        record.localUser = "alice"
        record.machine = "laptop.local"
        record.sshUser = "bot"
        record.branch = "main"
        record.from = "1111111111111111111111111111111111111111"
        record.to = "2222222222222222222222222222222222222222"
        record.failure = "wait-healthy: sighook restarted 3 times"
        record.steps = [.init(name: "lock", status: "ok", durationMS: 12), .init(name: "wait-healthy", status: "failed", durationMS: 60_000)]
        record.rollback = .init(result: "success", to: "1111111111111111111111111111111111111111",
                                steps: [.init(name: "up", status: "ok", durationMS: 2_100)], failure: nil)
        record.downtimeMS = ["sighook": 4_321]
        record.baselineFailures = ["trade-linkage"]
        record.reason = "release 2026-11-22"
        record.recordFailed = true
        return record
    }

    /// The smallest record: a lock release.
    static var released: AuditRecord {
        var record = AuditRecord(action: "lock-release", command: "botops lock release --force --reason stuck", result: "released",
                                 time: Date(timeIntervalSince1970: 1_795_379_504))
        record.localUser = "bob"
        record.machine = "ci-runner"
        record.reason = "stuck"
        return record
    }

    @Test func auditRecordLines() throws {
        try Self.expectGolden("audit.jsonl", [Self.rolledBack, Self.released].map(\.json).joined(separator: "\n") + "\n")
        let lines = try Self.read("audit.jsonl").split(separator: "\n").map(String.init)
        #expect(lines.map(AuditRecord.parse) == [Self.rolledBack, Self.released])
    }

    static let holder = LockHolder(user: "alice", machine: "laptop.local", pid: 4242, command: "botops deploy --service sighook",
                                   revision: "2222222222222222222222222222222222222222", step: "build", startedAt: 1_795_375_904)

    @Test func holderRecord() throws {
        try Self.expectGolden("holder.json", Self.holder.json + "\n")
        #expect(LockHolder.parse(try Self.read("holder.json")) == Self.holder)
    }

    static var releases: Releases {
        var releases = Releases()
        _ = releases.record(.init(revision: "1111111111111111111111111111111111111111", branch: "main", image: "bot/sighook:botops-111111111111",
                                  imageID: "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", verified: true, recordedAt: 1_795_300_000),
                            service: "sighook", keep: 5)
        _ = releases.record(.init(revision: "2222222222222222222222222222222222222222", image: "bot/sighook:botops-222222222222",
                                  verified: false, recordedAt: 1_795_375_904), service: "sighook", keep: 5)
        _ = releases.record(.init(revision: "3333333333333333333333333333333333333333", image: "registry.example:5000/bot/webhook@sha256:bbbb",
                                  recordedAt: 1_795_200_000), service: "webhook", keep: 5)
        return releases
    }

    @Test func releasesFile() throws {
        try Self.expectGolden("releases.json", Self.releases.json + "\n")
        #expect(try Releases.parse(try Self.read("releases.json"), file: "releases.json") == Self.releases)
    }
}
