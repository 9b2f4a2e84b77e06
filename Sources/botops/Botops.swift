import Basics
import ArgumentParser
import BotOpsKit
import Checks
import Foundation
import Remote

@main
struct Botops: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "botops",
        abstract: "Reach, run commands on and verify the trading bot's host.",
        version: BotOpsVersion.current,
        subcommands: [Ping.self, Exec.self, Verify.self, Deploy.self, Rollback.self, LockCommand.self, History.self, Logs.self, Cron.self, Gate.self,
                      StatusCommand.self, RecoverCommand.self, BackupCommand.self, BackupsCommand.self, RestoreCommand.self, PlaybooksCommand.self,
                      InstallHost.self]
    )

    /// Subcommands end through the command lifecycle (HostCommand), which throws the final status
    /// as an ExitCode; what reaches here otherwise is ArgumentParser's: help (0) or a usage error,
    /// whose code 64 becomes the README's 2.
    static func main() async {
        openClosedStandardDescriptors()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)
            }
            // The message echoes flag values as typed; an escape sequence among them must not reach the terminal.
            let message = terminalSafe(fullMessage(for: error), keepNewlines: true)
            if !message.isEmpty { FileHandle.standardError.write(Data("\(message)\n".utf8)) }
            let status = code == .validationFailure ? BotOpsExitCode.usage.rawValue : code.rawValue
            // A command that ran has ended its own event stream; one refused by the parser has not.
            if !(error is ExitCode) { finishEventStream(message: message, status: status) }
            Foundation.exit(status)
        }
    }

    /// `deploy` or `rollback` with `--format json` whose command line the parser refused (an
    /// unknown flag, a bad value): CI reading the events still gets the `finished` event, with
    /// the exit code the process exits with.
    static func finishEventStream(message: String, status: Int32, arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        guard let command = arguments.first(where: { !$0.hasPrefix("-") }), ["deploy", "rollback"].contains(command) else { return }
        let json = arguments.contains("--format=json") || zip(arguments, arguments.dropFirst()).contains { $0 == "--format" && $1 == "json" }
        guard json else { return }
        let outcome = DeployOutcome(result: .failed, summary: message, advice: nil, exitCode: BotOpsExitCode(rawValue: status) ?? .usage)
        if let line = JSONEventRenderer().render(.finished(outcome)) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
    }
}
