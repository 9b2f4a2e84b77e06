import BotOpsKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HostCommands
import Remote
import SandboxSupport
import Testing

/// The connection lost (its sshd session killed) at the moment the host asks to commit a
/// `--tables` restore: the host must roll it back rather than commit behind botops's back, and
/// botops must say so (exit 3).
extension BackupSandboxTests {
    @Test func aConnectionLostBeforeATableRestoreCommitsRollsItBackOnTheHost() async throws {
        try await BackupSandbox.scene { scene in
            let configPath = try scene.config()
            let scratch = "botops_scratch_lost"
            try await BackupSandbox.psql("CREATE TABLE \(scratch) (id int PRIMARY KEY, note text); INSERT INTO \(scratch) SELECT g, 'n' || g FROM generate_series(1, 20) g")
            do {
                let record = try await scene.unverifiedBackup(config: configPath)
                try await BackupSandbox.psql("DROP TABLE \(scratch)")
                let config = try BotOpsConfig.load(path: configPath)
                let host = try await SSHConnection.connect(to: try scene.sandbox.target())
                var error: RestoreError?
                try? await host.closing {
                    // The sshd process serving this connection: killed, it takes the connection with it.
                    let ppid = try await host.run(RemoteCommand("echo $PPID", timeout: .seconds(10))).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                    let session = try TestSSHServer.sessionProcess(try #require(pid_t(ppid)))
                    let entry = try #require(try await BackupCatalog(config: config, runner: host).entries().first { $0.record.id == record.id })
                    let job = TableRestore(config: config, runner: host)
                    let plan = try await job.plan(entry, tables: [.init(parsing: scratch)], replace: false)
                    error = await #expect(throws: RestoreError.self) {
                        _ = try await job.run(plan) { kill(session, SIGKILL) }
                    }
                }
                let message = error.map(String.init(describing:)) ?? ""
                #expect(error?.exitCode == .unreachable, "\(message)")
                // botops wrote its word as the connection died: it cannot know whether the host got
                // it, so it says how to tell.
                #expect(message.contains("connection lost as botops let the host commit"), "\(message)")
                let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                let check = try #require(lines.firstIndex { $0.hasSuffix("To tell, run on the host:") }.map { lines[$0 + 1] }, "\(message)")
                // The restore's session on the host ends (its input ended without the COMMIT), and
                // the table it was restoring is still absent; the check botops printed says so.
                try await waitUntil {
                    try await BackupSandbox.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'botops-restore%'") == "0"
                }
                #expect(try await BackupSandbox.psql("SELECT to_regclass('public.\(scratch)') IS NULL") == "t", "the restore committed after the connection was lost")
                #expect(try await BackupSandbox.sh(check) == "f", "\(check)")
            } catch {
                Issue.record("\(error)")
            }
            try await BackupSandbox.dropScratchTable(scratch)
        }
    }
}
