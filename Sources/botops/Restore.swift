import ArgumentParser
import BotOpsKit
import Foundation

struct RestoreCommand: HostCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup beside the live database and swap it in, or prove it restores (--test).",
        discussion: """
            BACKUP is an id from `botops backups`, `latest` (the newest verified backup), or a dump on this machine \
            with its record beside it, uploaded to backup.dir first (even with --dry-run). The dump's sha256, and its \
            roles file's, are checked against its record first. --test restores it with its roles into a throwaway server started \
            from the database container's image and compares every table's figures with the record. Without \
            --test, the roles of ID.roles.sql missing on the server are created (an existing role is never \
            altered), then the dump goes into a new database beside the live one, its figures are compared with the \
            record, the services are stopped, the live database is renamed NAME_replaced_TIME and the new one \
            takes its name in one transaction, then the services are started and the nine checks run. Ctrl-C \
            stops at the next safe point: before the rename nothing live stays changed but the roles created (named); after it the services are \
            started and the message says what to run. --tables restores only the named \
            tables into the live database, each with its keys, indexes, constraints, foreign keys, triggers, \
            sequences and grants, in one transaction that commits only when their figures equal the record; a \
            table that still has rows is refused unless --replace, which renames it NAME_replaced_TIME first. \
            botops never prompts: without --yes it prints the plan and exits 4.
            Exit codes: 0 restored and equal, 1 the dump or its roles file is damaged or differs (live database unchanged), 2 no \
            such backup or table (or, for --test, its roles file), 3 host unreachable, 4 refused (lock held, no --yes, no room), 5 swapped but the \
            services did not come back or a check that passed before fails (the message gives the commands to swap \
            back); 130/143 interrupted (the message says what the host is left with).
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var lock: LockWaitOption

    @Argument(help: "A backup id, latest, or a dump on this machine (PATH/ID.dump with its record ID.json beside it, and its roles ID.roles.sql, which --test needs), uploaded first.")
    var backup: String

    @Flag(name: .long, help: "Only the throwaway restore and comparison (the monthly restore test).")
    var test = false

    @Flag(name: .long, help: "Print the plan and change nothing (a dump on this machine is still uploaded to backup.dir first).")
    var dryRun = false

    @Flag(name: .long, help: "Do the restore (without it, the plan is printed and botops exits 4).")
    var yes = false

    @Option(name: .long, help: "Restore only these tables (NAME or SCHEMA.NAME, comma-separated; \"double quotes\" around a part that holds a space, dot or comma) with their keys, indexes, constraints, triggers, sequences and grants.")
    var tables: String?

    @Flag(name: .long, help: "With --tables: a table that still has rows is renamed NAME_replaced_TIME first (without it, such a table is refused).")
    var replace = false

    func validate() throws {
        if test, tables != nil { throw ValidationError("--test restores the whole backup; it does not take --tables") }
        if replace, tables == nil { throw ValidationError("--replace goes with --tables") }
        if let tables {
            do { _ = try tableNames(tables) } catch { throw ValidationError("\(error)") }
        }
    }

    private func tableNames(_ text: String) throws -> [TableOfContents.TableName] {
        var seen = Set<TableOfContents.TableName>()
        return try TableOfContents.TableName.list(parsing: text).filter { seen.insert($0).inserted }
    }

    func body(_ session: CommandSession) async throws -> ExitStatus {
        let host = try await session.host()
        try await session.takeBackupLock(command: commandLine(), wait: lock.lockWait)
        var wanted = backup
        if BackupUpload.isLocalFile(backup) {
            wanted = try await BackupUpload(config: session.config, runner: host).run(localDump: backup) { warning in
                FileHandle.standardError.write(Data("botops: warning: \(warning)\n".utf8))
            }.id
            FileHandle.standardError.write(Data("botops: \(backup) is in backup.dir as \(wanted).dump (sha256 equal to its record's)\n".utf8))
        }
        let catalog = BackupCatalog(config: session.config, runner: host)
        let entries = try await catalog.entries()
        let entry = backup == "latest" ? BackupAge.newestVerified(entries) : entries.first { $0.record.id == wanted }
        guard let entry, let id = BackupID.parse(entry.record.id) else { throw RestoreError.unknown(backup) }
        if let tables { return try await restoreTables(try tableNames(tables), from: entry, session: session) }
        guard test else { return try await full(entry, session: session) }
        return try await session.waitedForWhenInterrupted { try await testRestore(entry, id: id, session: session) }
    }

    /// `--test`: restores `entry` into a throwaway server (or a scratch database) and compares its figures.
    private func testRestore(_ entry: BackupCatalog.Entry, id: BackupID, session: CommandSession) async throws -> ExitStatus {
        let host = try await session.host()
        let job = BackupJob(config: session.config, runner: host)
        try await BackupRoles.requirePresent(entry.record, scripts: job.scripts, runner: host) { FileHandle.standardError.write(Data("botops: warning: \($0)\n".utf8)) }
        // The dump's sha256 is checked on the host while the throwaway server starts.
        let (outcome, onLive) = try await job.verify(id, sha256: entry.record.sha256, against: BackupFigures(tables: entry.record.tables, sequences: entry.record.sequences)) { line in
            FileHandle.standardError.write(Data("botops: \(line)\n".utf8))
        }
        switch outcome {
        case .verified:
            let place = onLive == nil ? "a throwaway server" : "a scratch database on the live server (backup.verify_on_live)"
            print("\(entry.record.id): restored into \(place); all \(entry.record.tables.count) tables' figures equal the record")
            return ExitStatus(.success)
        case .unverified(let reason):
            throw RestoreError.damaged(id: entry.record.id, detail: reason)
        case .failed(_, let problems):
            throw RestoreError.damaged(id: entry.record.id, detail: problems.prefix(10).joined(separator: "; "))
        }
    }

    private func restoreTables(_ names: [TableOfContents.TableName], from entry: BackupCatalog.Entry, session: CommandSession) async throws -> ExitStatus {
        let host = try await session.host()
        let job = TableRestore(config: session.config, runner: host)
        let plan = try await job.plan(entry, tables: names, replace: replace)
        guard yes, !dryRun else {
            print(plan.lines.joined(separator: "\n"))
            if dryRun { return ExitStatus(.success) }
            throw RestoreError.refused("restoring tables changes the live database; add --yes to do it")
        }
        try await audited(entry, session: session) {
            for note in try await job.run(plan, interruption: session.interruption) { print(note) }
        }
        return ExitStatus(.success)
    }

    /// Runs `work` and appends its audit line: success, or the restore error it threw.
    private func audited(_ entry: BackupCatalog.Entry, session: CommandSession, _ work: () async throws -> Void) async throws {
        let audit = AuditLog(state: session.config.deploy.stateDirectory, runner: try await session.host())
        var record = AuditRecord(action: "restore", command: commandLine(), result: "success", services: session.config.services)
        record.to = entry.record.id
        do {
            try await work()
            try await audit.append(record)
        } catch let error as RestoreError {
            if case .interrupted = error { record.result = "interrupted" } else { record.result = error.exitCode == .needsHuman ? "needs-human" : "failed" }
            record.failure = error.description
            try? await audit.append(record)
            throw error
        }
    }

    private func full(_ entry: BackupCatalog.Entry, session: CommandSession) async throws -> ExitStatus {
        let host = try await session.host()
        let job = RestoreJob(config: session.config, runner: host)
        let plan = try await job.plan(entry)
        guard yes, !dryRun else {
            print(plan.lines.joined(separator: "\n"))
            if dryRun { return ExitStatus(.success) }
            throw RestoreError.refused("a restore replaces the live database; add --yes to do it")
        }
        try await audited(entry, session: session) {
            let notes = try await job.run(plan, interruption: session.interruption) { _, line in FileHandle.standardError.write(Data("botops: \(line)\n".utf8)) }
            for note in notes { print(note) }
            print("\(entry.record.id) restored: \(session.config.database.name) now holds the backup"
                  + (plan.liveMissing ? "" : "; the previous database is \(job.scripts.replacedName)"))
        }
        return ExitStatus(.success)
    }
}
