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

extension BackupSandbox {
    /// A session in the db container holding `lock` on `table` in an open transaction until
    /// `release` (its input ends: it rolls back). Returns once the lock is granted.
    static func holdingLock(on table: String, mode: String) async throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["docker", "exec", "-i", "-e", "PGAPPNAME=botops-tests-lock", "db", "psql", "-X", "-q", "-U", "bot_user", "-d", "bot_trader_db"]
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data("BEGIN; LOCK TABLE \(table) IN \(mode) MODE;\n".utf8))
        try await waitUntil {
            try await psql("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'botops-tests-lock' AND l.granted AND l.relation = to_regclass('\(table)')") == "1"
        }
        return process
    }

    /// Ends a `holdingLock` session (its transaction rolls back) and waits for it to be gone.
    static func release(_ holder: Process) async throws {
        try? (holder.standardInput as? Pipe)?.fileHandleForWriting.close()
        holder.waitUntilExit()
        try await waitUntil { try await psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'botops-tests-lock'") == "0" }
    }
}

extension BackupSandboxTests {
    /// The connection lost while the restore's session still works on the host (here: waiting for
    /// a lock the test holds): the check botops prints says `running`, never `f` ("nothing
    /// changed") while that session may still commit; once it has ended, `f`.
    @Test func theCommitCheckSaysRunningWhileTheRestoresSessionIsStillThere() async throws {
        try await BackupSandbox.scene { scene in
            let configPath = try scene.config()
            let scratch = "botops_scratch_held"
            try await BackupSandbox.psql("CREATE TABLE \(scratch) (id int PRIMARY KEY); INSERT INTO \(scratch) SELECT generate_series(1, 5)")
            var holder: Process?
            do {
                let record = try await scene.unverifiedBackup(config: configPath)
                let config = try BotOpsConfig.load(path: configPath)
                let host = try await SSHConnection.connect(to: try scene.sandbox.target())
                var error: RestoreError?
                holder = try await BackupSandbox.holdingLock(on: scratch, mode: "ACCESS SHARE")
                try? await host.closing {
                    let ppid = try await host.run(RemoteCommand("echo $PPID", timeout: .seconds(10))).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                    let session = try TestSSHServer.sessionProcess(try #require(pid_t(ppid)))
                    let entry = try #require(try await BackupCatalog(config: config, runner: host).entries().first { $0.record.id == record.id })
                    let job = TableRestore(config: config, runner: host)
                    let plan = try await job.plan(entry, tables: [.init(parsing: scratch)], replace: true)
                    error = await #expect(throws: RestoreError.self) {
                        _ = try await job.run(plan) { kill(session, SIGKILL) }
                    }
                }
                let message = error.map(String.init(describing:)) ?? ""
                let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                let check = try #require(lines.firstIndex { $0.hasSuffix("To tell, run on the host:") }.map { lines[$0 + 1] }, "\(message)")
                // Its set-aside step waits for the test's lock: the session is there, it may still commit.
                #expect(try await BackupSandbox.sh(check) == "running", "\(check)")
                try await BackupSandbox.release(try #require(holder))
                holder = nil
                try await waitUntil {
                    try await BackupSandbox.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'botops-restore%'") == "0"
                }
                #expect(try await BackupSandbox.sh(check) == "f", "\(check)")
                #expect(try await BackupSandbox.psql("SELECT count(*) FROM \(scratch)") == "5")
            } catch {
                Issue.record("\(error)")
            }
            if let holder { try? await BackupSandbox.release(holder) }
            try await BackupSandbox.dropScratchTable(scratch)
        }
    }
}
