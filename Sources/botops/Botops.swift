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
        // Before anything else grows the resident set (README: Benchmarks, peak RSS).
        RelocationPages.release()
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
            // A command that ran has printed its own JSON; one refused by the parser has not.
            if !(error is ExitCode), let line = UsageErrorJSON.line(message: message, status: status, arguments: Array(CommandLine.arguments.dropFirst())) {
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            }
            Foundation.exit(status)
        }
    }
}
