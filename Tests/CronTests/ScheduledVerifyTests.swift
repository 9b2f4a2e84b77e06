import Foundation
import Remote
import SandboxSupport
import Testing

/// The scheduled verification as cron would run it: `botops verify --notify` against the sandbox,
/// with the last fire injected (`--at`) and notify.command a script that keeps what it is sent.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct ScheduledVerifyTests {
    let sandbox: Sandbox

    init() throws {
        sandbox = try Sandbox.require()
    }

    /// botops.yml for the sandbox plus notify.command, and crontab.d with the weekly entry.
    func setUp(in directory: URL) throws -> (config: String, notified: String) {
        let notified = directory.appendingPathComponent("notified.json").path
        let base = try String(contentsOfFile: sandbox.configFile, encoding: .utf8)
        let config = directory.appendingPathComponent("botops.yml").path
        try (base + "notify:\n  command: cat > \(shellQuote(notified))\n").write(toFile: config, atomically: true, encoding: .utf8)
        let entries = directory.appendingPathComponent("crontab.d")
        try FileManager.default.createDirectory(at: entries, withIntermediateDirectories: true)
        try weeklyEntryText.write(to: entries.appendingPathComponent("weekly-strategy-review.cron"), atomically: true, encoding: .utf8)
        return (config, notified)
    }

    func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func aMissedMondayReportWarnsNamingTheFireAndIsNotified() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (config, notified) = try setUp(in: directory)
        let lock = try await SandboxLock.acquire()
        defer { lock.release() }
        // Monday 4 January 2027, 10:00 in Los Angeles: every report on the sandbox predates that
        // morning's 09:00 fire, as if the fire never wrote one.
        let result = try await BuiltBinary.botops.run(["verify", "--config", config, "--at", "2027-01-04T18:00:00Z", "--notify"])
        #expect(result.termination == .exited(0), "\(result.stdoutText)\(result.stderrText)")
        #expect(result.stdoutText.contains("WARN  weekly-strategy-review  missed: nothing matching logs/weekly_review_*.txt was written since the fire at 2027-01-04 09:00 America/Los_Angeles (2027-01-04 17:00 UTC)"))
        #expect(result.stderrText.contains("notify.command was sent the report"))
        let report = try json(notified)
        let runs = try #require(report["scheduled_runs"] as? [[String: Any]])
        #expect(runs.first?["status"] as? String == "warn")
        #expect(runs.first?["last_fire"] as? String == "2027-01-04T17:00:00Z")
        #expect((report["checks"] as? [[String: Any]])?.count == 9)
    }

    @Test func aFailingCheckIsNotifiedWithTheFailingReport() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (config, notified) = try setUp(in: directory)
        try await SandboxCrontab.scene {
            try SandboxCrontab.write(Array("MAILTO=\"\"\n".utf8))
            let result = try await BuiltBinary.botops.run(["verify", "--config", config, "--notify", "--format", "json"])
            #expect(result.termination == .exited(1))
        }
        let report = try json(notified)
        #expect(report["status"] as? String == "fail")
        let cron = (report["checks"] as? [[String: Any]])?.first { $0["id"] as? String == "cron-scheduled" }
        #expect(cron?["status"] as? String == "fail")
    }

    @Test func nothingToReportSendsNothing() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (config, notified) = try setUp(in: directory)
        let lock = try await SandboxLock.acquire()
        defer { lock.release() }
        // A report written now is newer than the entry's last fire, whenever that was.
        _ = try await BuiltBinary.botops.run(["verify", "--config", config, "--only", "report-generation"])
        let now = ISO8601DateFormatter().string(from: Date().addingTimeInterval(60))
        let result = try await BuiltBinary.botops.run(["verify", "--config", config, "--notify", "--at", now,
                                                       "--crontab-dir", directory.appendingPathComponent("crontab.d").path])
        #expect(result.termination == .exited(0), "\(result.stdoutText)\(result.stderrText)")
        #expect(result.stdoutText.contains("PASS  weekly-strategy-review  the fire at"))
        #expect(!FileManager.default.fileExists(atPath: notified))
    }
}
