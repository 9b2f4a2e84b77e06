@testable import BotOpsKit
import Foundation
import Remote
import Testing

/// install-host removes the host's crontab.d entries deleted here, by exact name: the real /bin/sh
/// on a directory of odd names (spaces, a glob character, a quote).
@Suite struct HostInstallPruneTests {
    @Test func onlyTheEntriesNotKeptAreRemovedNamesTakenLiterally() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("botops-prune-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let crontab = home.appendingPathComponent("botops/crontab.d")
        try FileManager.default.createDirectory(at: crontab, withIntermediateDirectories: true)
        let present = ["x y.cron", "y.cron", "a*.cron", "ab.cron", "it's.cron", "s.cron", "notes.txt"]
        for name in present { try "".write(to: crontab.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let kept = ["x y.cron", "a*.cron", "it's.cron"]

        let result = try await LocalHost().run("cd \(shellQuote(home.path)) && " + InstallCommands.pruneScript(keep: kept).text)
        #expect(result.succeeded, "\(result.stderrText)")
        let left = try FileManager.default.contentsOfDirectory(atPath: crontab.path).sorted()
        #expect(left == (kept + ["notes.txt"]).sorted())

        // Nothing kept: every entry goes.
        _ = try await LocalHost().run("cd \(shellQuote(home.path)) && " + InstallCommands.pruneScript(keep: []).text)
        #expect(try FileManager.default.contentsOfDirectory(atPath: crontab.path) == ["notes.txt"])
    }
}
