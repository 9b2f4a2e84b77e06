import Basics
import Checks
import Foundation

/// What `botops recover` found, did and left: the `--format json` object and the text summary.
public struct RecoverReport: Encodable, Sendable {
    public struct Step: Encodable, Sendable {
        public var name: String
        /// repaired, nothing-to-do, failed, skipped
        public var status: String
        public var message: String
        public var durationMS: Int
    }

    public struct Remaining: Encodable, Sendable {
        public var problem: String
        /// The next command for a human, when there is one.
        public var next: String?
    }

    public var version = 1
    public var destination: String
    public var startedAt: String
    /// repaired, still-broken, healthy, planned, refused
    public var result: String
    public var broken: [String]
    /// What a run with --yes would do, in order (commands as they would run).
    public var plan: [String]
    public var steps: [Step]
    public var saved: String?
    public var remaining: [Remaining]
    public var checks: [[String: String]]
    public var exitCode: Int32

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }

    public var text: String {
        var lines: [String] = []
        if broken.isEmpty {
            lines.append("diagnosis: nothing broken")
        } else {
            lines += broken.map { "broken: " + terminalSafe($0) }
        }
        if !plan.isEmpty, steps.isEmpty {
            lines.append("plan (botops recover --yes runs it):")
            lines += plan.map { "  " + terminalSafe($0) }
        }
        for step in steps {
            lines.append("\(step.name.padding(toLength: 9, withPad: " ", startingAt: 0)) \(step.status.padding(toLength: 13, withPad: " ", startingAt: 0)) \(formatSeconds(step.durationMS))  \(terminalSafe(step.message))")
        }
        if let saved { lines.append("local changes saved in \(saved)") }
        for check in checks {
            lines.append("  \((check["status"] ?? "").uppercased().padding(toLength: 4, withPad: " ", startingAt: 0))  \(check["id"] ?? "")  \(terminalSafe(check["message"] ?? ""))")
        }
        for item in remaining {
            lines.append("still broken: \(terminalSafe(item.problem))" + (item.next.map { "\n  next: \(terminalSafe($0))" } ?? ""))
        }
        lines.append("recover: \(result) (exit \(exitCode))")
        return lines.joined(separator: "\n") + "\n"
    }

    private func formatSeconds(_ milliseconds: Int) -> String {
        formatFixed(Double(milliseconds) / 1000, digits: 1) + " s"
    }
}
