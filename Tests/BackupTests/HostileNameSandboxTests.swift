import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// Names from backup.dir reach the host's shell through the real sshd only quoted.
extension BackupSandboxTests {
    @Test func aRecordWithShellMetacharactersInItsIdIsListedAndKeptWithoutRunningAnything() async throws {
        try await BackupSandbox.scene { scene in
            // No '/' may appear in a file name: the marker is made where the command runs (backup.dir) or in ~bot.
            let marker = "botops-backup-pwned-\(UUID().uuidString.prefix(8))"
            let backups = scene.directory + "/backups/"
            try FileManager.default.createDirectory(atPath: backups, withIntermediateDirectories: true)
            var record = BackupRecord(id: BackupID(date: Date(timeIntervalSince1970: 1_700_000_000), label: nil), database: "bot_trader_db", serverVersion: "15",
                                      size: 4, sha256: String(repeating: "0", count: 64), tocDigest: "", status: .verified, statusReason: nil,
                                      keep: false, tables: [], sequences: [])
            record.id = "20231114T221320Z-a$(touch \(marker));'\"`touch \(marker)` *"
            try (record.json + "\n").write(toFile: backups + record.id + ".json", atomically: true, encoding: .utf8)
            try "dump".write(toFile: backups + record.id + ".dump", atomically: true, encoding: .utf8)
            try await BackupSandbox.sh("chown -R bot:bot \(shellQuote(backups))")
            let config = try scene.config()

            let listed = try await scene.botops(["backups", "--format", "json"], config: config)
            #expect(listed.termination == .exited(0), "\(listed.stderrText)")
            #expect(listed.stdoutText.contains(#""size_on_disk":4"#), "\(listed.stdoutText)")
            let kept = try await scene.botops(["backups", "keep", record.id], config: config)
            #expect(kept.termination == .exited(0), "\(kept.stderrText)")
            let stored = try String(contentsOfFile: backups + record.id + ".json", encoding: .utf8)
            #expect(BackupRecord.parse(stored)?.keep == true)
            let restore = try await scene.botops(["restore", record.id, "--test"], config: config)
            #expect(restore.termination == .exited(2), "not a backup name: \(restore.stderrText)")
            let home = try await BackupSandbox.sh("echo ~bot")
            #expect(!FileManager.default.fileExists(atPath: backups + marker) && !FileManager.default.fileExists(atPath: home + "/" + marker),
                    "a name from backup.dir ran as a command")
            #expect(scene.files().filter { !$0.hasPrefix(record.id) }.isEmpty, "\(scene.files())")
        }
    }
}
