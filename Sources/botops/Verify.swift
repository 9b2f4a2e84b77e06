import ArgumentParser
import BotOps
import Checks
import Foundation

extension ReportFormat: ExpressibleByArgument {}

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the nine post-deploy checks (seed 000) and report them.",
        discussion: """
            Exit codes: 0 all passed (warnings allowed), 1 a check failed, 2 usage or config error,
            3 host unreachable. Checks: \(allChecks.map(\.id).joined(separator: ", ")).
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

    @Option(name: .long, help: "Seconds each check's commands may take (the report script included).")
    var timeout: Double = 60

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds") }
        do {
            _ = try runner()
        } catch let error as CheckSelectionError {
            throw ValidationError(error.description)
        }
    }

    private func runner() throws -> CheckRunner {
        func ids(_ list: String?) -> [String] {
            list?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } ?? []
        }
        return try CheckRunner(only: ids(only), skip: ids(skip))
    }

    func run() async throws {
        let config = try connection.loadConfig()
        let runner = try runner()
        let settings = config.checkSettings(commandTimeout: .milliseconds(Int64(timeout * 1000)))
        let report = try await connection.settings(for: config).withConnection { host in
            await runner.run(in: CheckContext(host: host, settings: settings))
        }
        let colour = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        if let output {
            try writeAtomically(format.render(report, colour: false), to: output)
            print(ReportFormat.table.render(report, colour: colour), terminator: "")
        } else {
            print(format.render(report, colour: colour), terminator: "")
        }
        throw ExitCode(report.exitCode.rawValue)
    }
}
