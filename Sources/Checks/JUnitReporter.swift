import Basics
import Foundation

/// JUnit XML as Jenkins, GitLab and GitHub test reporters read it: one testcase per check; fail
/// maps to <failure>, skip to <skipped>, warn passes with the warning in <system-out>. The notes
/// follow in suites of their own (`botops.scheduled`, `botops.backup`), passing, a warning in
/// <system-out> as the checks' own; the outer counts are the checks'.
public struct JUnitReporter: Sendable {
    public init() {}

    public func render(_ report: VerifyReport) -> String {
        var xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites name="botops verify" \(counts(report)) time="\(seconds(report.duration))">

            """ + testsuite(report)
        if !report.scheduledRuns.isEmpty {
            xml += noteSuite("botops.scheduled", report.scheduledRuns.map { ($0.entry, $0.status == .warn, $0.message) })
        }
        if let backupAge = report.backupAge {
            xml += noteSuite("botops.backup", [("backup-age", backupAge.status == .warn, backupAge.message)])
        }
        return xml + "</testsuites>\n"
    }

    /// The `<testsuite name="botops.verify">` element alone, for reports that carry the checks
    /// beside their own suite (botops gate).
    public func testsuite(_ report: VerifyReport) -> String {
        let total = seconds(report.duration)
        var xml = "  <testsuite name=\"botops.verify\" \(counts(report)) skipped=\"\(report.count(.skip))\" time=\"\(total)\" timestamp=\"\(formatUTC(Int(report.startedAt.timeIntervalSince1970)))\" hostname=\"\(escape(report.destination))\">\n"
        for result in report.results {
            xml += "    <testcase classname=\"botops.verify\" name=\"\(escape(result.id.rawValue))\" time=\"\(seconds(result.duration))\">\n"
            switch result.status {
            case .fail:
                xml += "      <failure type=\"fail\" message=\"\(escape(result.message))\">\(escape(evidenceText(result)))</failure>\n"
            case .skip:
                xml += "      <skipped message=\"\(escape(result.message))\"/>\n"
            case .warn:
                xml += "      <system-out>\(escape("WARN: \(result.message)\n" + evidenceText(result)))</system-out>\n"
            case .pass:
                xml += "      <system-out>\(escape(result.message + "\n" + evidenceText(result)))</system-out>\n"
            }
            xml += "    </testcase>\n"
        }
        if let lost = report.connectionLost {
            xml += "    <system-err>\(escape("connection lost: \(lost)"))</system-err>\n"
        }
        return xml + "  </testsuite>\n"
    }

    private func noteSuite(_ name: String, _ cases: [(name: String, warns: Bool, message: String)]) -> String {
        var suite = "  <testsuite name=\"\(name)\" tests=\"\(cases.count)\" failures=\"0\" errors=\"0\" skipped=\"0\">\n"
        for item in cases {
            suite += "    <testcase classname=\"\(name)\" name=\"\(escape(item.name))\">\n"
            suite += "      <system-out>\(escape((item.warns ? "WARN: " : "") + item.message))</system-out>\n    </testcase>\n"
        }
        return suite + "  </testsuite>\n"
    }

    private func counts(_ report: VerifyReport) -> String {
        "tests=\"\(report.results.count)\" failures=\"\(report.count(.fail))\" errors=\"\(report.connectionLost == nil ? 0 : 1)\""
    }

    private func evidenceText(_ result: CheckResult) -> String {
        result.evidence.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
    }

    private func escape(_ text: String) -> String { xmlEscaped(text) }
}

/// Text for an XML attribute or element. XML 1.0 cannot carry most control characters, not even
/// as character references, so they are written as visible `\u001B`-style escapes (as JSON
/// would), keeping what the host sent.
public func xmlEscaped(_ text: String) -> String {
    var escaped = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": escaped += "&amp;"
        case "<": escaped += "&lt;"
        case ">": escaped += "&gt;"
        case "\"": escaped += "&quot;"
        case "\n", "\t", "\r": escaped.unicodeScalars.append(scalar)
        case _ where scalar.value < 0x20: escaped += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16, uppercase: true)
        default: escaped.unicodeScalars.append(scalar)
        }
    }
    return escaped
}
