import Foundation
import Remote
import SandboxSupport
import Testing

/// verify's backup age on the sandbox, end to end: a real `botops backup` into a backup.dir of
/// this test's own, then verify judged now (fresh) and two days on (stale: a warning, exit 0,
/// and `--notify` fires).
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct VerifyBackupAgeSandboxTests {
    let sandbox: Sandbox

    init() throws {
        sandbox = try Sandbox.require()
    }

    @Test func verifyReportsTheNewestVerifiedBackupsAgeAndNotifiesWhenStale() async throws {
        let local = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: local) }
        let lock = try await SandboxLock.acquire()
        defer { lock.release() }
        let backupDirectory = try await sandbox.userOwnedDirectory(prefix: "botops-verify-age")
        defer { try? FileManager.default.removeItem(atPath: backupDirectory) }
        let notified = local.appendingPathComponent("notified.json").path
        let config = local.appendingPathComponent("botops.yml").path
        let base = try String(contentsOfFile: sandbox.configFile, encoding: .utf8)
        try (base + "backup: {dir: \(backupDirectory), max_age: 24h}\nnotify: {command: \(shellQuote("cat > " + shellQuote(notified)))}\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        // No ./crontab.d beside this botops.yml: only the backup age can call for attention.
        let verify = ["verify", "--config", config, "--only", "db-running", "--format", "json"]

        let none = try await BuiltBinary.botops.run(verify)
        #expect(none.termination == .exited(0), "\(none.stderrText)")
        let noneAge = try Self.backupAge(none.stdoutText)
        #expect(noneAge["status"] as? String == "warn")
        #expect((noneAge["message"] as? String)?.hasPrefix("no verified backup exists") == true)

        let backup = try await BuiltBinary.botops.run(["backup", "--config", config])
        try #require(backup.termination == .exited(0), "\(backup.stderrText)")
        let id = String(backup.stdoutText.prefix { $0 != ":" })

        let fresh = try await BuiltBinary.botops.run(verify + ["--notify"])
        #expect(fresh.termination == .exited(0), "\(fresh.stderrText)")
        let freshAge = try Self.backupAge(fresh.stdoutText)
        #expect(freshAge["status"] as? String == "pass", "\(freshAge)")
        #expect(freshAge["newest"] as? String == id)
        #expect(!FileManager.default.fileExists(atPath: notified), "notify fired for a fresh backup")

        let later = ISO8601DateFormatter().string(from: Date().addingTimeInterval(2 * 86_400))
        let stale = try await BuiltBinary.botops.run(verify + ["--notify", "--at", later])
        #expect(stale.termination == .exited(0), "a stale backup is a warning, not a failed check: \(stale.stderrText)")
        let staleAge = try Self.backupAge(stale.stdoutText)
        #expect(staleAge["status"] as? String == "warn")
        #expect((staleAge["message"] as? String)?.contains("is 2 d old (backup.max_age: 24 h)") == true, "\(staleAge)")
        #expect(stale.stderrText.contains("notify.command was sent the report"))
        let sent = try Self.backupAge(try String(contentsOfFile: notified, encoding: .utf8))
        #expect(sent["status"] as? String == "warn")

        let table = try await BuiltBinary.botops.run(["verify", "--config", config, "--only", "db-running", "--at", later])
        #expect(table.stdoutText.contains("backups:\n  WARN  the newest verified backup, \(id), is 2 d old"), "\(table.stdoutText)")
    }

    static func backupAge(_ json: String) throws -> [String: Any] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "not JSON: \(json)")
        return try #require(object["backup_age"] as? [String: Any], "no backup_age in \(json)")
    }
}
