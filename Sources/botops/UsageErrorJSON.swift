import Basics
import BotOpsKit
import Foundation

/// A command line the parser refused (an unknown flag, a bad value, a missing argument) while
/// `--format json` is among the arguments: the error goes to stdout as JSON, in the shape the
/// command's other errors take, so a script reading stdout gets an answer and not silence.
enum UsageErrorJSON {
    /// A refused command line, as the commands' own errors describe themselves.
    struct Refused: Error, CustomStringConvertible, ExitCodeProviding {
        let description: String
        let exitCode: BotOpsExitCode
    }

    /// The JSON line for `arguments` (without the program name), or nil when they do not ask for JSON.
    static func line(message: String, status: Int32, arguments: [String]) -> String? {
        let json = arguments.contains("--format=json") || zip(arguments, arguments.dropFirst()).contains { $0 == "--format" && $1 == "json" }
        guard json else { return nil }
        let code = BotOpsExitCode(rawValue: status) ?? .usage
        switch arguments.first(where: { !$0.hasPrefix("-") }) {
        case "deploy", "rollback":
            // Their output is an event stream: it ends with its `finished` event.
            return JSONEventRenderer().render(.finished(DeployOutcome(result: .failed, summary: message, advice: nil, exitCode: code)))
        case "install-host":
            return InstallReport.json(error: Refused(description: message, exitCode: code), install: nil, dryRun: arguments.contains("--dry-run"))
        default:
            let object: [String: Any] = ["outcome": "usage", "exit_code": Int(status), "error": message]
            guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return nil }
            return String(decoding: data, as: UTF8.self)
        }
    }
}
