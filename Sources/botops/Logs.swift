import ArgumentParser
import BotOpsKit
import Foundation
import Remote

struct Logs: HostCommand {
    static let configuration = CommandConfiguration(
        abstract: "A service's container log (docker logs), e.g. for snapshot, cache or report-job errors.",
        discussion: "Exit codes: 0 lines shown, 1 --grep matched nothing, 2 usage or no container for the service, 3 host unreachable.")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The compose service, e.g. sighook.")
    var service: String

    @Option(name: .long, help: "Only the last N lines.")
    var tail: Int?

    @Option(name: .long, help: ArgumentHelp("Only lines from this long ago, e.g. 30m or 2h.", valueName: "duration"))
    var since: String?

    @Option(name: .long, help: ArgumentHelp("Only lines matching this extended regular expression (grep -E).", valueName: "regex"))
    var grep: String?

    func validate() throws {
        guard Name.isValid(service) else { throw ValidationError("'\(service)' is not a service name") }
        if let tail, !(1...1_000_000).contains(tail) { throw ValidationError("--tail takes a number from 1 to 1000000") }
        if let since, parseTimeLimit(since) == nil { throw ValidationError("--since takes a duration such as 30m or 2h (at most 24h)") }
    }

    func body(_ session: CommandSession) async throws -> ExitStatus {
        let logs = ServiceLogs(service: service, tail: tail, since: since, pattern: grep)
        let termination = try await logs.run(session.config, on: try await session.host()) { line in print(line) }
        switch termination.shellStatus {
        case 0: return ExitStatus(.success)
        case 1 where grep != nil: return ExitStatus(.failed)
        case 3: throw LogsError.noContainer(service)
        default: return ExitStatus(.failed)
        }
    }
}

enum LogsError: Error, CustomStringConvertible, ExitCodeProviding {
    case noContainer(String)

    var description: String {
        switch self {
        case .noContainer(let service): return "no container for service \(service) on the host (is it in the compose file, and was it ever started?)"
        }
    }

    var exitCode: BotOpsExitCode { .usage }
}
