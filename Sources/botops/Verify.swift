import ArgumentParser
import BotOps
import Checks
import Foundation

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

    func validate() throws {
        do {
            _ = try runner()
        } catch let error as CheckSelectionError {
            throw ValidationError(error.description)
        }
    }

    private func runner() throws -> CheckRunner {
        try CheckRunner(only: CheckID.list(only ?? ""), skip: CheckID.list(skip ?? ""))
    }

    func body(_ session: CommandSession) async throws -> ExitStatus {
        let runner = try runner()
        let destination = try output.map(ReportOutput.init(path:))
        let settings = session.config.checkSettings(commandTimeout: timeout)
        let report = await runner.run(in: CheckContext(host: try await session.host(), settings: settings))
        let colour = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        if let destination {
            print(ReportFormat.table.render(report, colour: colour), terminator: "")
            try destination.write(format.render(report, colour: false))
        } else {
            print(format.render(report, colour: colour), terminator: "")
        }
        return ExitStatus(report.exitCode)
    }
}
