import ArgumentParser
import BotOpsKit

/// A subcommand that works on the host. It implements only `body`; `run` wraps it in the one
/// command lifecycle (config, connection, releases on every way out, exit code).
protocol HostCommand: AsyncParsableCommand, Sendable {
    var connection: ConnectionOptions { get }
    /// The command's own work; what it takes (the deploy lock) it takes through `session`, which
    /// releases it on every way out.
    func body(_ session: CommandSession) async throws -> ExitStatus
    /// The command ended before its body ran (botops.yml unreadable): a command whose output is
    /// an event stream ends it here.
    func failedToStart(_ error: Error)
}

extension HostCommand {
    func run() async throws {
        let status = await CommandLifecycle().run(connection.selection, failedToStart: failedToStart) { session in
            try await body(session)
        }
        throw ExitCode(status)
    }

    func failedToStart(_ error: Error) {}
}
