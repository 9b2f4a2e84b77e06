import Basics
import Checks
import Cron
import Foundation

/// How `botops gate` prints its report.
public enum GateFormat: String, CaseIterable, Sendable {
    case text, json, junit

    public func render(_ report: GateReport) -> String {
        switch self {
        case .text: return renderText(report)
        case .json: return renderJSON(report)
        case .junit: return renderJUnit(report)
        }
    }

    private func renderText(_ report: GateReport) -> String {
        var lines = ["botops gate: \(report.service.map { "deploy of \($0)" } ?? "deploy") to \(report.destination) at \(CronZone.utc.local(at: report.at)) UTC"]
        let width = GateVerdict.Name.allCases.map(\.rawValue.count).max() ?? 0
        for verdict in report.verdicts {
            let name = verdict.name.rawValue.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append("  \(verdict.status.rawValue.uppercased().padding(toLength: 4, withPad: " ", startingAt: 0))  \(name)  \(terminalSafe(verdict.message))")
        }
        lines.append("\(report.outcome) (exit \(report.exitCode.rawValue))")
        return lines.joined(separator: "\n") + "\n"
    }

    /// gate's JSON: its verdicts and the checks' own document, in botops' one JSON style.
    struct Document: Encodable {
        struct Gate: Encodable {
            var name: String, status: String, message: String
        }

        var version = 1
        var destination: String
        var at: String
        var outcome: String
        var exit_code: Int
        var gates: [Gate]
        /// Null, never absent, when there is none.
        var service: JSONReporter.OrNull<String>
        var checks: JSONReporter.OrNull<JSONReporter.Document>
    }

    private func renderJSON(_ report: GateReport) -> String {
        JSONReporter.text(Document(
            destination: report.destination, at: formatUTC(Int(report.at)), outcome: report.outcome, exit_code: Int(report.exitCode.rawValue),
            gates: report.verdicts.map { .init(name: $0.name.rawValue, status: $0.status.rawValue, message: $0.message) },
            service: .init(report.service), checks: .init(report.checks.map(JSONReporter().document))))
    }

    /// One `<testsuite name="botops.gate">` with a testcase per gate, then the nine checks' suite.
    private func renderJUnit(_ report: GateReport) -> String {
        let failures = report.verdicts.filter { $0.status == .fail }.count
        let skipped = report.verdicts.filter { $0.status == .skip }.count
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"botops gate\">\n"
        xml += "  <testsuite name=\"botops.gate\" tests=\"\(report.verdicts.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"\(skipped)\" timestamp=\"\(formatUTC(Int(report.at)))\" hostname=\"\(xmlEscaped(report.destination))\">\n"
        for verdict in report.verdicts {
            xml += "    <testcase classname=\"botops.gate\" name=\"\(verdict.name.rawValue)\">\n"
            switch verdict.status {
            case .fail: xml += "      <failure type=\"\(verdict.refuses ? "refused" : "fail")\" message=\"\(xmlEscaped(verdict.message))\"/>\n"
            case .skip: xml += "      <skipped message=\"\(xmlEscaped(verdict.message))\"/>\n"
            case .pass: xml += "      <system-out>\(xmlEscaped(verdict.message))</system-out>\n"
            }
            xml += "    </testcase>\n"
        }
        xml += "  </testsuite>\n"
        if let checks = report.checks {
            xml += JUnitReporter().testsuite(checks)
        }
        return xml + "</testsuites>\n"
    }
}
