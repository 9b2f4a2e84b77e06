import ArgumentParser
import BotOpsKit

struct History: HostCommand {
    static let configuration = CommandConfiguration(
        abstract: "The deploys, rollbacks and lock releases recorded in the host's audit log, newest last.")

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .short, help: "How many records to show.")
    var n: Int = 20

    @Option(name: .long, help: "text, or json (the audit's records, one per line).")
    var format: EventFormat = .text

    func validate() throws {
        guard (1...10_000).contains(n) else { throw ValidationError("-n takes a number from 1 to 10000") }
    }

    func body(_ session: CommandSession) async throws -> ExitStatus {
        let records = try await AuditLog(state: session.config.deploy.stateDirectory, runner: try await session.host()).read(last: n)
        if format == .json {
            records.forEach { print($0.json) }
        } else {
            print(HistoryTable().render(records), terminator: "")
        }
        return ExitStatus(.success)
    }
}
