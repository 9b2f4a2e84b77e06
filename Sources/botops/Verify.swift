import ArgumentParser
import BotOpsKit
import Checks
import Cron
import Foundation
import Remote

extension ReportFormat: ExpressibleByArgument {}

struct Verify: HostCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the nine post-deploy checks from the operator's runbook and report them.",
        discussion: """
            Exit codes: 0 all passed (warnings allowed), 1 a check failed, 2 usage or config error,
            3 host unreachable or the connection was lost. Checks: \(allChecks.map(\.id.rawValue).joined(separator: ", ")).
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: "Run only these checks (comma-separated); their prerequisites run too.")
    var only: String?

    @Option(name: .long, help: "Report these checks (comma-separated) as skipped.")
    var skip: String?

    @Option(name: .long, help: "table, json or junit.")
    var format: ReportFormat = .table

    @Option(name: .long, help: "Write the report to FILE (atomically) and print the table.")
    var output: String?

    @Option(name: .long, help: ArgumentHelp("Seconds each check's commands may take, the report script included (at most 86400).", valueName: "seconds"), transform: parseSeconds)
    var timeout: Duration = .seconds(60)

    @Option(name: .customLong("crontab-dir"), help: ArgumentHelp("crontab.d, for 'did the scheduled run happen?' (default: crontab.d beside botops.yml, when there is one).", valueName: "dir"))
    var crontabDirectory: String?

    @Flag(name: .long, help: "When a check fails, a scheduled run was missed or the newest backup is older than backup.max_age, run botops.yml's notify.command with the JSON report on its stdin.")
    var notify = false

    @Option(name: .long, help: ArgumentHelp("Judge the scheduled runs and the backup age as of this UTC instant instead of now, e.g. 2026-11-30T18:00:00Z.", valueName: "instant"), transform: parseInstant)
    var at: Int64?

    @Flag(name: .customLong("dry-run"), help: "Print the commands the checks would send (table and junit: as text; json: as JSON) and exit 0; nothing is sent, not even a connection opened.")
    var dryRun = false

    func validate() throws {
        // A dry run writes no report and notifies no one: asked to, it would exit 0 without doing so.
        if dryRun, output != nil || notify {
            throw ValidationError("--dry-run prints the commands only; it writes no --output file and sends no --notify. Drop those options, or drop --dry-run.")
        }
        do {
            _ = try CheckRunner(only: CheckID.list(only ?? ""), skip: CheckID.list(skip ?? ""))
        } catch let error as CheckSelectionError {
            throw ValidationError(error.description)
        }
    }

    func body(_ session: CommandSession) async throws -> ExitStatus {
        let verification = try Verification(config: session.config, only: CheckID.list(only ?? ""), skip: CheckID.list(skip ?? ""), timeout: timeout)
        if dryRun {
            let plan = verification.plan()
            print(format == .json ? plan.json : plan.text, terminator: "")
            return ExitStatus(.success)
        }
        let destination = try output.map(ReportOutput.init(path:))
        var notifier: Notifier?
        if notify {
            guard let command = session.config.notifyCommand else {
                throw ConfigError(file: connection.config ?? HostSelection.defaultConfigPath, key: "notify.command",
                                  problem: "--notify needs notify.command in botops.yml (a command that reads the report on its stdin)")
            }
            notifier = Notifier(command: command)
        }
        let entries = try CronEntries.managed(crontabDirectory: crontabDirectory, configPath: connection.config)
        let report = await verification.report(on: try await session.host(), entries: entries, now: at ?? Int64(Date().timeIntervalSince1970))
        let colour = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        if let destination {
            print(ReportFormat.table.render(report, colour: colour), terminator: "")
            try destination.write(format.render(report, colour: false))
        } else {
            print(format.render(report, colour: colour), terminator: "")
        }
        if let notifier, report.needsAttention {
            if let problem = notifier.send(ReportFormat.json.render(report, colour: false)) {
                FileHandle.standardError.write(Data("botops: \(problem)\n".utf8))
            } else {
                FileHandle.standardError.write(Data("botops: notify.command was sent the report\n".utf8))
            }
        }
        return ExitStatus(report.exitCode)
    }
}
