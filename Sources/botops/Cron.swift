import ArgumentParser
import BotOpsKit
import Cron
import Foundation

struct Cron: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Keep the host's crontab in step with crontab.d: diff, install, list, remove, restore.",
        discussion: """
            crontab.d holds one file per entry (NAME.cron): an optional CRON_TZ=ZONE line, one schedule \
            line, and '# botops: blackout 10m' / '# botops: expects GLOB' directives. botops changes only \
            the lines between its '# BEGIN botops NAME' and '# END botops NAME' markers; every other line \
            of the crontab stays byte for byte. Where the host's cron ignores CRON_TZ (Debian, Ubuntu) \
            and the entry's zone is not the host's, the entry is installed with a guard that checks the \
            time in the entry's zone, so it never fires at the wrong hour.
            """,
        subcommands: [CronDiff.self, CronInstall.self, CronList.self, CronRemove.self, CronRestore.self]
    )
}

/// Where the entries come from: crontab.d beside botops.yml, or as committed at a revision.
struct CronSourceOptions: ParsableArguments {
    @Option(name: .customLong("crontab-dir"), help: ArgumentHelp("The crontab.d directory (default: crontab.d beside botops.yml).", valueName: "dir"))
    var directory: String?

    @Option(name: .long, help: ArgumentHelp("Use the entries as committed at this git revision (rollback: the report schedule of the previous release).", valueName: "rev"))
    var ref: String?

    func entries(configPath: String?) throws -> [CronEntry] {
        let directory = directory ?? CronEntries.defaultDirectory(configPath: configPath)
        return try ref.map { try CronEntries.load(directory: directory, revision: $0) } ?? CronEntries.load(directory: directory)
    }
}

extension CommandSession {
    /// The crontab commands' view of this session's host, acting now.
    func cronService() async throws -> CronService {
        let host = try await self.host()
        let state = config.deploy.stateDirectory
        return CronService(host: CronHost(runner: host, state: state), destination: host.destination,
                           now: Int64(Date().timeIntervalSince1970), audit: CronAudit(runner: host, state: state))
    }
}

/// A crontab subcommand working on crontab.d's entries: it prints what `work` returns.
protocol CronEntriesCommand: HostCommand {
    var source: CronSourceOptions { get }
    func work(_ entries: [CronEntry], _ service: CronService, _ session: CommandSession) async throws -> String
}

extension CronEntriesCommand {
    func body(_ session: CommandSession) async throws -> ExitStatus {
        let entries = try source.entries(configPath: connection.config)
        print(try await work(entries, try await session.cronService(), session), terminator: "")
        return ExitStatus(.success)
    }
}

struct CronDiff: CronEntriesCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what install would change, as a unified diff; says how each entry is installed (plain, CRON_TZ, or guarded)."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var source: CronSourceOptions

    func work(_ entries: [CronEntry], _ service: CronService, _ session: CommandSession) async throws -> String {
        try await service.diff(entries).render()
    }
}

struct CronInstall: CronEntriesCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install crontab.d's entries under the deploy lock; a crontab that already matches is left alone.",
        discussion: """
            The previous crontab is saved in the state directory on the host first (the last 20 are kept). \
            A line installed by hand whose command is an entry's (whitespace aside) is adopted, never \
            duplicated; a line running the entry's program any other way makes install refuse (exit 4), \
            naming both. Warns when an entry's program is not on the host. \
            Refused (exit 4) inside an entry's blackout window unless --force.
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var lock: LockWaitOption
    @OptionGroup var source: CronSourceOptions

    @Flag(name: .long, help: "Install even inside a blackout window (the audit log records it).")
    var force = false

    func work(_ entries: [CronEntry], _ service: CronService, _ session: CommandSession) async throws -> String {
        try await service.install(entries, force: force, lock: session.cronLock(wait: lock.lockWait), command: commandLine()).render()
    }
}

struct CronList: CronEntriesCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the entries, whether they are installed, and their next and last fire in the entry's zone, the host's zone and UTC."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var source: CronSourceOptions

    func work(_ entries: [CronEntry], _ service: CronService, _ session: CommandSession) async throws -> String {
        try await service.list(entries).render()
    }
}

struct CronRemove: HostCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove one managed entry from the crontab (delete its crontab.d file too, or install puts it back)."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var lock: LockWaitOption

    @Argument(help: "The entry's name (its crontab.d file name without .cron).")
    var name: String

    func validate() throws {
        guard CronEntry.isValidName(name) else { throw ValidationError("'\(name)' is not an entry name") }
    }

    func body(_ session: CommandSession) async throws -> ExitStatus {
        let service = try await session.cronService()
        guard let backup = try await service.remove(name, lock: session.cronLock(wait: lock.lockWait), command: commandLine()) else {
            print("no managed entry '\(name)' in the crontab; nothing changed")
            return ExitStatus(.failed)
        }
        print("removed \(name); the previous crontab is saved as \(backup)")
        return ExitStatus(.success)
    }
}

struct CronRestore: HostCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put a crontab backup back (the newest without BACKUP), e.g. after an accidental crontab -r.",
        discussion: "The crontab it replaces is backed up first, so a second restore undoes the first."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var lock: LockWaitOption

    @Flag(name: .long, help: "List the backups instead.")
    var list = false

    @Argument(help: "A backup name from --list.")
    var backup: String?

    func body(_ session: CommandSession) async throws -> ExitStatus {
        let service = try await session.cronService()
        if list {
            for backup in try await service.host.backups() { print("\(backup.name)  \(backup.bytes) bytes") }
            return ExitStatus(.success)
        }
        let restored = try await service.restore(backup, lock: session.cronLock(wait: lock.lockWait), command: commandLine())
        print("restored \(restored)")
        return ExitStatus(.success)
    }
}
