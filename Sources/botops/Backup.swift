import ArgumentParser
import BotOpsKit
import Foundation

struct BackupCommand: HostCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Dump the ledger with its figures, and prove the dump restores.",
        discussion: """
            pg_dump runs inside the database container; the dump, its roles and its record (ID.json) go to \
            backup.dir on the host. Unless --no-verify, the dump is restored into a throwaway server started \
            from the database container's image and its figures compared with the record.
            Exit codes: 0 backed up (verified, or unverified with the reason), 1 the dump or its \
            verification failed, or the --download did not arrive whole (nothing is named as the dump then), 2 configuration, 3 host unreachable, 4 refused (lock held, low disk).
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var lock: LockWaitOption

    @Option(name: .long, help: "A label added to the backup's id (letters, digits, '_', '.', '-').")
    var label: String?

    @Flag(name: .long, help: "Never delete this backup by retention.")
    var keep = false

    @Flag(name: .customLong("no-verify"), help: "Skip the restore into a throwaway server (the backup stays unverified).")
    var noVerify = false

    @Option(name: .long, help: "Also copy the dump, its roles and its record into this directory on this machine (sha256-checked, written atomically).")
    var download: String?

    @Option(name: .long, help: "text, or json (the backup's record).")
    var format: EventFormat = .text

    func validate() throws {
        if let label, let problem = BackupID.validLabel(label) {
            throw ValidationError("--label: \(problem)")
        }
    }

    func body(_ session: CommandSession) async throws -> ExitStatus {
        try await session.waitedForWhenInterrupted { try await backUp(session) }
    }

    private func backUp(_ session: CommandSession) async throws -> ExitStatus {
        let host = try await session.host()
        try await session.takeBackupLock(command: commandLine(), wait: lock.lockWait)
        let id = BackupID(date: Date(), label: label)
        let job = BackupJob(config: session.config, runner: host)
        // Progress goes to stderr whatever the format: with json, stdout is the record alone.
        var record = try await job.run(id: id, keep: keep, verify: !noVerify) { line in
            FileHandle.standardError.write(Data("botops: \(line)\n".utf8))
        }
        if session.config.backup.hostFiles, record.status != .failed {
            record.hostFiles = try await BackupHostFiles(config: session.config, runner: host).run(record.id)
            try await job.write(record)
        }
        if record.status == .verified, let command = session.config.backup.push {
            let failure = try await BackupPush(config: session.config, command: command, runner: host).run(record)
            record.pushed = failure == nil
            try await job.write(record)
            if let failure { FileHandle.standardError.write(Data("botops: warning: \(failure); \(record.id) stays in backup.dir, marked not pushed\n".utf8)) }
        }
        if record.status == .verified {
            let deleted = try await BackupCatalog(config: session.config, runner: host)
                .applyRetention(RetentionPolicy(session.config.backup), now: Date())
            if !deleted.isEmpty { FileHandle.standardError.write(Data("botops: retention deleted \(deleted.joined(separator: ", "))\n".utf8)) }
        }
        if let download {
            let paths = try await BackupDownload(config: session.config, runner: host).run(record, into: download)
            FileHandle.standardError.write(Data("botops: downloaded \(paths.joined(separator: ", ")) (each one's size and sha256 checked)\n".utf8))
        }
        if format == .json {
            print(record.json)
        } else {
            let rows = record.tables.reduce(Int64(0)) { $0 + $1.rows }
            print("\(record.id): \(record.size) bytes, \(record.tables.count) tables, \(rows) rows, \(record.status.rawValue)"
                  + (record.statusReason.map { " (\($0))" } ?? ""))
            print("restore with: botops restore \(record.id) --yes")
        }
        return ExitStatus(.success)
    }
}

extension CommandSession {
    /// The deploy lock for backup, retention and restore, released on every way out.
    func takeBackupLock(command: String, wait: Duration?) async throws {
        _ = try await acquireDeployLock(as: .current(command: command), wait: wait)
    }

    /// Runs `work` so that Ctrl-C or SIGTERM cancels it and is waited for before the deploy lock
    /// is released: a verification in flight stops on the host and cleans up first (`BackupJob`).
    /// Interrupted, it ends with 128 + the signal (a lost connection still says exit 3).
    func waitedForWhenInterrupted(_ work: @escaping @Sendable () async throws -> ExitStatus) async throws -> ExitStatus {
        let task = Task { try await work() }
        interruption.onRequest(stillRunning: { "a backup verification's cleanup (its script stops when botops's channel closes)" }) { _ in task.cancel() }
        do {
            return try await task.value
        } catch {
            guard let signal = interruption.signal, BotOpsExitCode(for: error) != .unreachable else { throw error }
            // What the stop left (a scratch database to drop by hand, say) is still said.
            if !(error is CancellationError) { FileHandle.standardError.write(Data("botops: \(error)\n".utf8)) }
            return ExitStatus(passingThrough: 128 + signal)
        }
    }
}
