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
    func setUp(in directory: URL, entry: String = weeklyEntryText) throws -> (config: String, notified: String) {
        let notified = directory.appendingPathComponent("notified.json").path
        let base = try String(contentsOfFile: sandbox.configFile, encoding: .utf8)
        let config = directory.appendingPathComponent("botops.yml").path
        try (base + "notify:\n  command: cat > \(shellQuote(notified))\n").write(toFile: config, atomically: true, encoding: .utf8)
        let entries = directory.appendingPathComponent("crontab.d")
        try FileManager.default.createDirectory(at: entries, withIntermediateDirectories: true)
        try entry.write(to: entries.appendingPathComponent("weekly-strategy-review.cron"), atomically: true, encoding: .utf8)
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
        #expect(result.stdoutText.contains("WARN  weekly-strategy-review  missed: /opt/bot/logs/weekly_review_cron.log was not written since the fire at 2027-01-04 09:00 America/Los_Angeles (2027-01-04 17:00 UTC)"), "\(result.stdoutText)")
        #expect(result.stderrText.contains("notify.command was sent the report"))
        let report = try json(notified)
        // Pretty-printed with sorted keys as without crontab.d (it was one compact line with it).
        let sent = try String(contentsOfFile: notified, encoding: .utf8)
        #expect(sent.hasPrefix("{\n  \"") && sent.contains("\n  \"scheduled_runs\" : [\n"), "\(sent.prefix(200))")
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

    /// The entry's own command run as cron runs it (its log written), then verify: nothing to report.
    /// A report written by verify's own report-generation no longer counts (item 17), so the
    /// scheduled command really runs here, into a log of this test's own.
    @Test func nothingToReportSendsNothing() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = "/opt/bot/logs/botops-verify-test-cron.log"
        let (config, notified) = try setUp(in: directory, entry: weeklyEntryText.replacingOccurrences(of: "/opt/bot/logs/weekly_review_cron.log", with: log))
        let lock = try await SandboxLock.acquire()
        defer { lock.release() }
        let connection = try await SSHConnection.connect(to: try sandbox.target())
        try await connection.closing {
            let ran = try await connection.run("/opt/bot/weekly_strategy_review.sh >> \(shellQuote(log)) 2>&1")
            #expect(ran.succeeded, "\(ran.stderrText)")
            let now = ISO8601DateFormatter().string(from: Date().addingTimeInterval(60))
            let result = try await BuiltBinary.botops.run(["verify", "--config", config, "--notify", "--at", now,
                                                           "--crontab-dir", directory.appendingPathComponent("crontab.d").path])
            #expect(result.termination == .exited(0), "\(result.stdoutText)\(result.stderrText)")
            #expect(result.stdoutText.contains("PASS  weekly-strategy-review  the fire at"), "\(result.stdoutText)")
            #expect(!FileManager.default.fileExists(atPath: notified))
            _ = try await connection.run("rm -f \(shellQuote(log))")
        }
    }
}
