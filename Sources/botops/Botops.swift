import ArgumentParser
import BotOps
import Foundation

@main
struct Botops: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "botops",
        abstract: "Reach, run commands on and verify the trading bot's host.",
        subcommands: [Ping.self, Exec.self, Verify.self]
    )

    /// Maps failures onto botops' documented exit codes (2 for usage, 3 for unreachable, …)
    /// instead of ArgumentParser's defaults.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ExitCodeProviding {
            FileHandle.standardError.write(Data("botops: \(error)\n".utf8))
            Foundation.exit(error.exitCode.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)
            }
            let message = fullMessage(for: error)
            if !message.isEmpty { FileHandle.standardError.write(Data("\(message)\n".utf8)) }
            Foundation.exit(code == .validationFailure ? BotOpsExitCode.usage.rawValue : code.rawValue)
        }
    }
}
