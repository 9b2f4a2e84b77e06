import Foundation
import HostCommands

/// A command a verify run would send, and the checks that read what it prints.
public struct PlannedCommand: Sendable, Equatable, Encodable {
    public var checks: [CheckID]
    public var command: RemoteCommand

    private enum Key: String, CodingKey { case checks, changes, command }

    /// `{checks, changes (absent when read-only), command}`, the command as it may be shown.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(checks, forKey: .checks)
        if case .changes(let what) = command.effect { try container.encode(what, forKey: .changes) }
        try container.encode(command.displayText, forKey: .command)
    }
}

extension CheckRunner {
    /// The commands a run of these checks sends, each once, in the order the checks are listed:
    /// what `verify --dry-run` prints. Checks `--skip` names send nothing.
    public func plan(_ probes: CheckProbes) -> [PlannedCommand] {
        var plan: [PlannedCommand] = []
        for check in checks where willRun(check) {
            for command in check.commands(in: probes) {
                if let index = plan.firstIndex(where: { $0.command == command }) {
                    plan[index].checks.append(check.id)
                } else {
                    plan.append(PlannedCommand(checks: [check.id], command: command))
                }
            }
        }
        return plan
    }
}

extension [PlannedCommand] {
    /// The plan as text: per command, the checks it serves, whether it changes the host, and the
    /// command as it may be shown (redacted).
    public var text: String {
        map { planned in
            let effect = switch planned.command.effect {
            case .readOnly: "read-only"
            case .changes(let what): "changes the host: \(what)"
            }
            return "# \(planned.checks.map(\.rawValue).joined(separator: ", ")) (\(effect))\n\(planned.command.displayText)\n"
        }.joined(separator: "\n")
    }

    /// The plan as JSON: an array of {checks, changes, command}, keys sorted.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self) + "\n"
    }
}
