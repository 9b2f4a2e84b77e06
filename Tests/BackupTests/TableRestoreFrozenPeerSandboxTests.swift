@testable import BotOpsKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HostCommands
import Remote
import SandboxSupport
import Testing

/// The sshd session serving a `--tables` restore frozen (SIGSTOP: the host stops answering, the
/// TCP connection stays up): botops must end by its keepalives with exit 3 and advice that holds,
/// the host must roll the restore back on its own (botops's word never reaches it), nothing of the
/// restore may be left running there, and the rerun the advice asks for must work.
extension BackupSandboxTests {
    /// Frozen at the commit handshake: the rows are in, the host has asked for the word, and
    /// botops writes it into a connection whose peer no longer reads.
    @Test func aSessionFrozenAtTheCommitHandshakeEndsWithExitThreeAndTheHostRollsBack() async throws {
        try await BackupSandbox.scene { scene in
            let configPath = try scene.config()
            let scratch = "botops_scratch_frozen_commit"
            try await BackupSandbox.psql("CREATE TABLE \(scratch) (id int PRIMARY KEY, note text); INSERT INTO \(scratch) SELECT g, 'n' || g FROM generate_series(1, 20) g")
            let frozen = FrozenSession()
            do {
                let restore = try await Self.restoreOfDropped(scratch, config: configPath, scene: scene)
                var error: RestoreError?
                var plan: TableRestore.Plan?
                try? await restore.host.closing {
                    plan = try await restore.plan()
                    error = await #expect(throws: RestoreError.self) {
                        _ = try await restore.job.run(try #require(plan)) { frozen.freeze(restore.session) }
                    }
                }
                let message = error.map(String.init(describing:)) ?? ""
                #expect(frozen.pid != nil, "the host never asked for the word")
                #expect(error?.exitCode == .unreachable, "\(message)")
                #expect(message.contains("connection lost as botops let the host commit") && message.contains("no answer"), "\(message)")
                let check = try #require(Self.advisedCheck(message), "\(message)")
                // The word sits in the frozen sshd's socket: the host's wait for it ends, it rolls back.
                try await Self.rollsBackThenTheAdviceWorks(scratch, plan: try #require(plan), check: check, frozen: frozen, record: restore.record.id, config: restore.config, scene: scene)
            } catch {
                Issue.record("\(error)")
            }
            try? await frozen.end()
            try await BackupSandbox.dropScratchTable(scratch)
        }
    }

    /// Frozen during the data load: the rows are in the transaction and pg_restore waits (for a lock
    /// the test holds on the table a foreign key of the restored one points at) when the session
    /// freezes. botops has sent no word: it says nothing will be committed and the check says
    /// `running` while the host's session is still there, `f` once it rolled back.
    @Test func aSessionFrozenDuringTheDataLoadEndsWithExitThreeAndTheHostRollsBack() async throws {
        try await BackupSandbox.scene { scene in
            let configPath = try scene.config()
            let parent = "botops_scratch_frozen_parent", scratch = "botops_scratch_frozen_load"
            try await BackupSandbox.psql("""
                CREATE TABLE \(parent) (id int PRIMARY KEY); INSERT INTO \(parent) SELECT generate_series(1, 5);
                CREATE TABLE \(scratch) (id int PRIMARY KEY, parent int REFERENCES \(parent)); INSERT INTO \(scratch) SELECT g, 1 + g % 5 FROM generate_series(1, 20) g
                """)
            let frozen = FrozenSession()
            var holder: Process?
            do {
                let restore = try await Self.restoreOfDropped(scratch, config: configPath, scene: scene)
                var error: RestoreError?
                var plan: TableRestore.Plan?
                try? await restore.host.closing {
                    let planned = try await restore.plan()
                    plan = planned
                    // Adding the foreign key (after the rows) waits for this lock.
                    holder = try await BackupSandbox.holdingLock(on: parent, mode: "ACCESS EXCLUSIVE")
                    let running = Task { try await restore.job.run(planned) }
                    try await waitUntil {
                        try await BackupSandbox.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = '\(TableRestore.applicationName(planned))' AND wait_event_type = 'Lock'") == "1"
                    }
                    frozen.freeze(restore.session)
                    error = await #expect(throws: RestoreError.self) { _ = try await running.value }
                }
                let message = error.map(String.init(describing:)) ?? ""
                #expect(error?.exitCode == .unreachable, "\(message)")
                #expect(message.contains("connection lost before botops let the host commit") && message.contains("nothing will be committed"), "\(message)")
                let check = try #require(Self.advisedCheck(message, lead: "To see whether it is still there, run on the host:"), "\(message)")
                #expect(try await BackupSandbox.sh(check) == "running", "the session waits for the test's lock: \(check)")
                try await BackupSandbox.release(try #require(holder))
                holder = nil
                // Its foreign key added, the host asks for the word, which never comes: it rolls back.
                try await Self.rollsBackThenTheAdviceWorks(scratch, plan: try #require(plan), check: check, frozen: frozen, record: restore.record.id, config: restore.config, scene: scene)
                #expect(try await BackupSandbox.psql("SELECT count(*) FROM pg_constraint WHERE conrelid = '\(scratch)'::regclass AND contype = 'f'") == "1")
            } catch {
                Issue.record("\(error)")
            }
            if let holder { try? await BackupSandbox.release(holder) }
            try? await frozen.end()
            try await BackupSandbox.dropScratchTable(scratch)
            try await BackupSandbox.dropScratchTable(parent)
        }
    }

    /// Where both scenes start: a backup holding `table`, then the table dropped, and a restore of
    /// it to run over a connection with short keepalives (`session`: the sshd process serving it).
    struct DroppedTableRestore {
        let table: String
        let record: BackupRecord
        let config: BotOpsConfig
        let host: SSHConnection
        let session: pid_t
        let job: TableRestore

        /// The restore of `table` from the backup, planned over `host`.
        func plan() async throws -> TableRestore.Plan {
            try await job.plan(try await BackupSandboxTests.entry(record.id, config: config, host: host), tables: [.init(parsing: table)], replace: false)
        }
    }

    static func restoreOfDropped(_ table: String, config configPath: String, scene: BackupSandbox) async throws -> DroppedTableRestore {
        let record = try await scene.unverifiedBackup(config: configPath)
        try await BackupSandbox.psql("DROP TABLE \(table)")
        let config = try BotOpsConfig.load(path: configPath)
        let (host, session) = try await connectionWithShortKeepalives(scene)
        return DroppedTableRestore(table: table, record: record, config: config, host: host, session: session,
                                   job: try await jobWaitingBriefly(config: config, host: host))
    }

    /// A connection to the sandbox that counts the host as gone after 4 s without an answer
    /// (ServerAliveInterval 2, ServerAliveCountMax 1), and the sshd session process serving it.
    static func connectionWithShortKeepalives(_ scene: BackupSandbox) async throws -> (SSHConnection, pid_t) {
        var target = try scene.sandbox.target()
        target.serverAliveInterval = 2
        target.serverAliveCountMax = 1
        let host = try await SSHConnection.connect(to: target)
        let ppid = try await host.run(RemoteCommand("echo $PPID", timeout: .seconds(10))).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return (host, try TestSSHServer.sessionProcess(try #require(pid_t(ppid))))
    }

    /// A table restore over `host` whose host waits 3 s (not 60) for botops's word.
    static func jobWaitingBriefly(config: BotOpsConfig, host: SSHConnection) async throws -> TableRestore {
        var job = TableRestore(config: config, runner: host)
        job.commitWait = .seconds(3)
        return job
    }

    /// The backup `id` as the catalog lists it.
    static func entry(_ id: String, config: BotOpsConfig, host: SSHConnection) async throws -> BackupCatalog.Entry {
        try #require(try await BackupCatalog(config: config, runner: host).entries().first { $0.record.id == id })
    }

    /// The command the message gives after `lead`.
    static func advisedCheck(_ message: String, lead: String = "To tell, run on the host:") -> String? {
        let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        return lines.firstIndex { $0.hasSuffix(lead) }.flatMap { lines.indices.contains($0 + 1) ? lines[$0 + 1] : nil }
    }

    /// Processes on the host (this machine) whose command line names the restore's run
    /// (its psql session's application name, its `-L` list): its remote command's parts.
    static func hostProcesses(of plan: TableRestore.Plan) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { Int32($0) != nil }.compactMap { pid in
            guard let line = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8), line.contains(plan.suffix) else { return nil }
            return line.replacingOccurrences(of: "\0", with: " ")
        }
    }

    /// The host's restore session ends without committing `table`; thawed and ended, the frozen
    /// session leaves nothing of the restore running; then the advice: `check` says `f` (nothing
    /// changed, run the restore again), and the rerun, over a new connection, restores the 20 rows.
    static func rollsBackThenTheAdviceWorks(_ table: String, plan: TableRestore.Plan, check: String, frozen: FrozenSession, record id: String,
                                            config: BotOpsConfig, scene: BackupSandbox) async throws {
        try await waitUntil {
            try await BackupSandbox.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'botops-restore%'") == "0"
        }
        #expect(try await BackupSandbox.psql("SELECT to_regclass('public.\(table)') IS NULL") == "t", "the restore committed through a frozen session")
        try await frozen.end()
        #expect(try hostProcesses(of: plan) == [], "the restore left these running on the host")
        #expect(try await BackupSandbox.sh(check) == "f", "\(check)")
        let host = try await SSHConnection.connect(to: try scene.sandbox.target())
        try await host.closing {
            let job = TableRestore(config: config, runner: host)
            _ = try await job.run(try await job.plan(try await entry(id, config: config, host: host), tables: [.init(parsing: table)], replace: false))
        }
        #expect(try await BackupSandbox.psql("SELECT count(*) FROM \(table)") == "20")
    }
}

/// An sshd session process the test froze: `end` thaws and ends it (once), and waits until it is gone.
final class FrozenSession: @unchecked Sendable {
    private let lock = NSLock()
    private var frozen: pid_t?

    var pid: pid_t? { lock.withLock { frozen } }

    /// SIGSTOP, and back only once the process is stopped: nothing it does after this is botops's.
    func freeze(_ session: pid_t) {
        lock.withLock { frozen = session }
        kill(session, SIGSTOP)
        for _ in 0..<1000 where Self.state(session) != "T" { usleep(5000) }
    }

    func end() async throws {
        guard let session = lock.withLock({ () -> pid_t? in defer { frozen = nil }; return frozen }) else { return }
        kill(session, SIGCONT)
        kill(session, SIGTERM)
        try await waitUntil { let state = Self.state(session); return state == nil || state == "Z" }
    }

    /// The process's state letter (`T`: stopped), nil once it is gone.
    static func state(_ pid: pid_t) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ").first.map(String.init)
    }
}
