import Remote

/// The human view: one line per check (symbol, id, message, duration) and a summary line. Text
/// that came from the host is shown terminal-safe: no escape sequences, no control characters.
public struct TableReporter: Sendable {
    public var colour: Bool

    public init(colour: Bool) {
        self.colour = colour
    }

    public func render(_ report: VerifyReport) -> String {
        let idWidth = report.results.map(\.id.rawValue.count).max() ?? 0
        var lines = ["verify \(terminalSafe(report.destination))"]
        for result in report.results {
            let id = result.id.rawValue.padding(toLength: idWidth, withPad: " ", startingAt: 0)
            let time = result.status == .skip ? "" : "  " + milliseconds(result.duration)
            lines.append("\(symbol(result.status)) \(id)  \(terminalSafe(result.message))\(time)")
        }
        var summary = "\(report.results.count) checks: \(report.count(.pass)) passed"
        for (status, word) in [(CheckStatus.warn, "warned"), (.fail, "failed"), (.skip, "skipped")] where report.count(status) > 0 {
            summary += ", \(report.count(status)) \(word)"
        }
        lines.append(summary + " in " + milliseconds(report.duration))
        if let lost = report.connectionLost {
            lines.append("connection lost during the run; results are incomplete: \(terminalSafe(lost.description))")
        }
        if !report.scheduledRuns.isEmpty {
            lines.append("scheduled runs (crontab.d entries with 'expects'):")
            lines += report.scheduledRuns.map { "  \(label($0.status.rawValue))  \($0.entry)  \(terminalSafe($0.message))" }
        }
        if let backupAge = report.backupAge {
            lines += ["backups:", "  \(label(backupAge.status.rawValue))  \(terminalSafe(backupAge.message))"]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A note's status, as wide as the longest.
    private func label(_ status: String) -> String {
        status.uppercased().padding(toLength: 4, withPad: " ", startingAt: 0)
    }

    private func symbol(_ status: CheckStatus) -> String {
        let (mark, code) = switch status {
        case .pass: ("✔", "32")
        case .warn: ("!", "33")
        case .fail: ("✘", "31")
        case .skip: ("-", "2")
        }
        return colour ? "\u{1B}[\(code)m\(mark)\u{1B}[0m" : mark
    }
}

public func milliseconds(_ duration: Duration) -> String {
    let value = totalSeconds(duration)
    return value >= 1 ? formatFixed(value, digits: 2) + " s" : "\(Int((value * 1000).rounded())) ms"
}

func seconds(_ duration: Duration) -> String {
    formatFixed(totalSeconds(duration), digits: 3)
}
