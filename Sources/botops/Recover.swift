import ArgumentParser
import BotOpsKit
import Foundation

struct RecoverCommand: HostCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "The emergency runbook as one command: diagnose, then repair files, cron, modes, the database and services, and run the nine checks.",
        discussion: """
            Never prompts: without --yes it diagnoses, prints the plan and exits 4. It never moves HEAD, removes \
            a volume, drops a table, empties the crontab or discards a local change without saving it (to \
            state_dir/recover/TIME), and never restores the database itself: it prints the restore command. \
            Exit codes: 0 all nine checks pass, 1 still broken (what and the next command are printed; \
            --dry-run: something is broken), 2 usage or config, 3 unreachable, 4 refused (no --yes, or a deploy \
            holds the lock).
            """)

    @OptionGroup var connection: ConnectionOptions

    @Flag(name: .long, help: "Diagnose and print every command a repair would run; change nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Repair (without it, recover only diagnoses and exits 4).")
    var yes = false

    @Option(name: .long, help: "text or json.")
    var format: EventFormat = .text

    @Option(name: .customLong("crontab-dir"), help: ArgumentHelp("crontab.d, whose entries are installed (default: crontab.d beside botops.yml, when there is one).", valueName: "dir"))
    var crontabDirectory: String?

    func body(_ session: CommandSession) async throws -> ExitStatus {
        let config = session.config
        let base = connection.config.map { URL(fileURLWithPath: $0).deletingLastPathComponent() } ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let playbooks = config.deploy.playbooks.hasPrefix("/") ? config.deploy.playbooks : base.appendingPathComponent(config.deploy.playbooks).path
        let playbook = try RecoverPlaybook.load(directory: playbooks)
        let text = format == .text
        let recoverer = Recoverer(
            config: config, runner: try await session.host(), entries: try CronEntries.managed(crontabDirectory: crontabDirectory, configPath: connection.config),
            playbook: playbook, acquireLock: { holder in try await session.acquireDeployLock(as: holder, wait: nil) },
            progress: { line in if text { FileHandle.standardError.write(Data("\(line)\n".utf8)) } })
        let report = try await recoverer.run(.init(dryRun: dryRun, yes: yes, command: commandLine()))
        print(text ? report.text : report.json, terminator: text ? "" : "\n")
        return ExitStatus(passingThrough: report.exitCode)
    }
}
