import ArgumentParser
import BotOpsKit
import Foundation

struct BackupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backups",
        abstract: "List the backups on the host, or mark one to keep.",
        subcommands: [List.self, Keep.self],
        defaultSubcommand: List.self
    )

    struct List: HostCommand {
        static let configuration = CommandConfiguration(
            abstract: "The backups in backup.dir, oldest first: id, age, size, rows, verified or not, pushed or not.",
            discussion: "Warns on stderr when the newest verified backup is older than backup.max_age. Exit codes: 0 listed, 3 host unreachable.")

        @OptionGroup var connection: ConnectionOptions

        @Option(name: .long, help: "text, or json (one record per line, with size_on_disk and effective_status).")
        var format: EventFormat = .text

        func body(_ session: CommandSession) async throws -> ExitStatus {
            let entries = try await BackupCatalog(config: session.config, runner: try await session.host()).entries()
            let now = Date()
            if format == .json {
                for entry in entries { print(entry.json) }
            } else if entries.isEmpty {
                print("no backups yet: botops backup")
            } else {
                print(BackupTable(now: now).render(entries), terminator: "")
            }
            if let warning = BackupAge.warning(entries, maxAge: session.config.backup.maxAge, now: now) {
                FileHandle.standardError.write(Data("botops: warning: \(warning)\n".utf8))
            }
            return ExitStatus(.success)
        }
    }

    struct Keep: HostCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark a backup so that retention never deletes it.")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var lock: LockWaitOption

        @Argument(help: "The backup's id, as `botops backups` lists it.")
        var id: String

        func body(_ session: CommandSession) async throws -> ExitStatus {
            let host = try await session.host()
            try await session.takeBackupLock(command: commandLine(), wait: lock.lockWait)
            let catalog = BackupCatalog(config: session.config, runner: host)
            guard var record = try await catalog.entries().first(where: { $0.record.id == id })?.record else {
                FileHandle.standardError.write(Data("botops: no backup \(id) in backup.dir; botops backups lists them\n".utf8))
                return ExitStatus(.usage)
            }
            record.keep = true
            try await BackupJob(config: session.config, runner: host).write(record)
            print("\(id): kept; retention will not delete it")
            return ExitStatus(.success)
        }
    }
}
