@testable import BotOpsKit
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
    /// `table` (5 rows) backed up, then dropped: the job (through `runner`; LocalHost is
    /// `--local`) and its plan to restore it. The caller drops the table in the end.
    func restoreOfADroppedTable(_ table: String, runner: any CommandRunner = LocalHost()) async throws -> (TableRestore, TableRestore.Plan) {
        let configPath = try config()
        try await Self.psql("CREATE TABLE \(table) (id int PRIMARY KEY); INSERT INTO \(table) SELECT generate_series(1, 5)")
        let record = try await unverifiedBackup(config: configPath)
        try await Self.psql("DROP TABLE \(table)")
        let config = try BotOpsConfig.load(path: configPath)
        let entry = try #require(try await BackupCatalog(config: config, runner: runner).entries().first { $0.record.id == record.id })
        let job = TableRestore(config: config, runner: runner)
        return (job, try await job.plan(entry, tables: [.init(parsing: table)], replace: false))
    }

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
    /// changed") while that session is there; once it has ended (rolled back), `f`.
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
                    // Killed while the restore's session waits for the lock (the host asks for the
                    // word only once psql has run all but the COMMIT, so not before the lock is free).
                    let restore = Task { try await job.run(plan) }
                    try await waitUntil {
                        try await BackupSandbox.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = '\(TableRestore.applicationName(plan))' AND wait_event_type = 'Lock'") == "1"
                    }
                    kill(session, SIGKILL)
                    error = await #expect(throws: RestoreError.self) { _ = try await restore.value }
                }
                let message = error.map(String.init(describing:)) ?? ""
                let check = try #require(Self.advisedCheck(message, lead: "To see whether it is still there, run on the host:"), "\(message)")
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

extension BackupSandboxTests {
    /// Ctrl-C as the host asks to commit (over ssh, and through `--local`'s LocalHost): botops
    /// withholds its word and ends the restore's stdin, so the host rolls back instead of
    /// committing a restore botops then calls interrupted; and no command botops spawned holds
    /// that stdin's write end (it would wait for the host's timeout, not for botops).
    @Test(arguments: [false, true])
    func anInterruptionBeforeTheWordRollsTheTableRestoreBackWithoutWaitingForTheHostsTimeout(overSSH: Bool) async throws {
        try await BackupSandbox.scene { scene in
            let scratch = "botops_scratch_withheld"
            let ssh = overSSH ? try await SSHConnection.connect(to: try scene.sandbox.target()) : nil
            do {
                let (job, plan) = try await scene.restoreOfADroppedTable(scratch, runner: ssh ?? LocalHost())
                let interruption = Interruption()
                let holders = Holders()
                let error = await #expect(throws: RestoreError.self) {
                    _ = try await job.run(plan, interruption: interruption) {
                        holders.set(Self.childrenHoldingTheirStdinsWriteEnd())
                        interruption.request(SIGINT)
                    }
                }
                #expect(holders.get() == [], "these commands hold their own stdin's write end open: \(String(describing: holders.get()))")
                let message = error.map(String.init(describing:)) ?? ""
                #expect(message.contains("the tables were not restored, nothing changed") && message.contains("interrupted"), "\(message)")
                try await waitUntil {
                    try await BackupSandbox.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'botops-restore%'") == "0"
                }
                #expect(try await BackupSandbox.psql("SELECT to_regclass('public.\(scratch)') IS NULL") == "t", "the restore committed after the interruption")
            } catch {
                Issue.record("\(error)")
            }
            await ssh?.close()
            try await BackupSandbox.dropScratchTable(scratch)
        }
    }

    /// This process's children whose stdin is a pipe they also hold open for writing.
    static func childrenHoldingTheirStdinsWriteEnd() -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        let children = tasks.flatMap { task in
            ((try? String(contentsOfFile: "/proc/self/task/\(task)/children", encoding: .utf8)) ?? "").split(separator: " ").map(String.init)
        }
        return children.filter { pid in
            guard let stdin = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/0"), stdin.hasPrefix("pipe:") else { return false }
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            return fds.contains { fd in
                guard (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")) == stdin,
                      let info = try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(fd)", encoding: .utf8),
                      let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags:") }).flatMap({ Int($0.dropFirst(6).trimmingCharacters(in: .whitespaces), radix: 8) })
                else { return false }
                return flags & Int(O_ACCMODE) == Int(O_WRONLY)
            }
        }.map { pid in (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))?.replacingOccurrences(of: "\0", with: " ").prefix(60).description ?? pid }
    }
}

/// What the commit hook saw (nil: it did not run).
private final class Holders: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [String]?
    func set(_ value: [String]) { lock.withLock { seen = value } }
    func get() -> [String]? { lock.withLock { seen } }
}

extension BackupSandboxTests {
    /// botops's word reaching the host after it stopped waiting (botops or its connection
    /// stopped, a slow link): the host rolls back, and botops says that was why.
    @Test func aCommitWordTooLateRollsTheTableRestoreBackAndSaysWhy() async throws {
        try await BackupSandbox.scene { scene in
            let scratch = "botops_scratch_late"
            do {
                var (job, plan) = try await scene.restoreOfADroppedTable(scratch)
                job.commitWait = .seconds(2)
                let error = await #expect(throws: RestoreError.self) {
                    // Held until the host's wait for the word began and ended.
                    _ = try await job.run(plan) { Self.waitForTheHostsCommitWaitToPass() }
                }
                let message = error.map(String.init(describing:)) ?? ""
                #expect(message.contains("the tables were not restored, nothing changed") && message.contains("did not reach the host within 2 s"), "\(message)")
                try await waitUntil {
                    try await BackupSandbox.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'botops-restore%'") == "0"
                }
                #expect(try await BackupSandbox.psql("SELECT to_regclass('public.\(scratch)') IS NULL") == "t", "committed on a word that came too late")
            } catch {
                Issue.record("\(error)")
            }
            try await BackupSandbox.dropScratchTable(scratch)
        }
    }

    /// Blocks until a `timeout … head -n 1` on this machine (the host's wait for the word) has started and ended
    /// (at most 60 s).
    static func waitForTheHostsCommitWaitToPass() {
        func waiting() -> Bool {
            let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return pids.contains { pid in
                guard Int(pid) != nil, let line = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8) else { return false }
                return line.hasPrefix("timeout\0") && line.hasSuffix("\0head\0-n\01\0")
            }
        }
        var seen = false
        for _ in 0..<1200 {
            if waiting() { seen = true } else if seen { return }
            usleep(50_000)
        }
    }
}
