import Foundation
import Remote
import SandboxSupport
import Testing

/// deploy and rollback refuse to start inside a blackout window. An entry that fires every
/// minute with a ten-minute blackout keeps the clock inside a window whenever the test runs.
@Suite(.holdingTheSandboxLock, .serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct BlackoutCommandTests {
    @Test(arguments: [["deploy", "--service", "sighook", "--yes"], ["rollback", "--service", "sighook"]])
    func refusedInsideTheWindowBeforeTakingTheLock(_ command: [String]) async throws {
        let sandbox = try Sandbox.require()
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let entries = directory.appendingPathComponent("crontab.d")
        try FileManager.default.createDirectory(at: entries, withIntermediateDirectories: true)
        try "* * * * * /opt/bot/heartbeat.sh\n# botops: blackout 10m\n".write(to: entries.appendingPathComponent("heartbeat.cron"), atomically: true, encoding: .utf8)
        let state = "/tmp/botops-blackout-test-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: state) }
        let config = directory.appendingPathComponent("botops.yml").path
        try (try String(contentsOfFile: sandbox.configFile, encoding: .utf8) + "state_dir: \(state)\n").write(toFile: config, atomically: true, encoding: .utf8)

        let result = try await BuiltBinary.botops.run(command + ["--config", config, "--crontab-dir", entries.path])
        #expect(result.termination == .exited(4), "\(result.stdoutText)\(result.stderrText)")
        #expect(result.stderrText.contains("refusing to \(command[0]) inside a blackout window: heartbeat fires at"))
        #expect(result.stderrText.contains("pass --force (the audit records it)"))
        let audit = try String(contentsOfFile: state + "/audit.jsonl", encoding: .utf8)
        #expect(audit.contains("\"action\":\"\(command[0])\""))
        #expect(audit.contains("\"result\":\"refused\""))
        // Refused before the lock was ever taken.
        #expect(!FileManager.default.fileExists(atPath: state + "/lock"))
    }
}
