@testable import Checks
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Remote
import SandboxSupport
import Testing

@Suite struct ReporterTests {
    let report = VerifyReport(
        destination: "bot@127.0.0.1:2222", startedAt: Date(timeIntervalSince1970: 1_795_375_056), duration: .milliseconds(437),
        results: [
            CheckResult(id: .cronScheduled, title: "Cron", status: .pass, message: "0 9 * * 1 /opt/bot/x.sh >> log 2>&1",
                        evidence: [Evidence("line", "0 9 * * 1 /opt/bot/x.sh >> log 2>&1")], duration: .milliseconds(74)),
            CheckResult(id: .dbRunning, title: "DB", status: .warn, message: "healthcheck <starting> & \"pending\"",
                        evidence: [], duration: .milliseconds(5)),
            CheckResult(id: .dbConnectivity, title: "Conn", status: .fail, message: "relation \"trade_records\" does not exist\u{1}",
                        evidence: [Evidence("sqlstate", "42P01")], duration: .milliseconds(40)),
            CheckResult(id: .reportFile, title: "File", status: .skip, message: "skipped: report-generation failed",
                        evidence: [], duration: .zero),
        ])

    @Test func junitValidatesAgainstTheSchemaCIToolsRead() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("verify.xml").path
        try JUnitReporter().render(report).write(toFile: file, atomically: true, encoding: .utf8)
        let schema = try #require(Bundle.module.path(forResource: "junit", ofType: "xsd", inDirectory: "Fixtures"))
        let result = try await LocalHost().run(shellCommand(["xmllint", "--noout", "--schema", schema, file]))
        #expect(result.termination == .exited(0), "\(result.stderrText)")
    }

    @Test func junitMapsStatusesToElements() throws {
        let xml = JUnitReporter().render(report)
        let document = try XMLDocument(xmlString: xml)
        let cases = try document.nodes(forXPath: "//testcase")
        #expect(cases.count == 4)
        #expect(try document.nodes(forXPath: "//testcase[@name='db-connectivity']/failure").count == 1)
        #expect(try document.nodes(forXPath: "//testcase[@name='report-file']/skipped").count == 1)
        #expect(try document.nodes(forXPath: "//testcase[@name='cron-scheduled']/failure").isEmpty)
        let suite = try #require(try document.nodes(forXPath: "//testsuite").first as? XMLElement)
        #expect(suite.attribute(forName: "failures")?.stringValue == "1")
        #expect(suite.attribute(forName: "skipped")?.stringValue == "1")
        #expect(suite.attribute(forName: "tests")?.stringValue == "4")
    }

    @Test func jsonParsesWithStableFields() throws {
        let json = JSONReporter().render(report)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["version"] as? Int == 1)
        #expect(object["status"] as? String == "fail")
        #expect(object["destination"] as? String == "bot@127.0.0.1:2222")
        #expect((object["summary"] as? [String: Int]) == ["pass": 1, "warn": 1, "fail": 1, "skip": 1])
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks.map { $0["id"] as? String } == ["cron-scheduled", "db-running", "db-connectivity", "report-file"])
        #expect(checks[2]["evidence"] as? [String: String] == ["sqlstate": "42P01"])
        #expect(checks[0]["duration_ms"] as? Int == 74)
    }

    @Test func tableShowsSymbolsAndSummaryWithoutColourOffATerminal() {
        let table = TableReporter(colour: false).render(report)
        #expect(table.contains("✔ cron-scheduled "))
        #expect(table.contains("✘ db-connectivity "))
        #expect(table.contains("- report-file      skipped: report-generation failed"))
        #expect(table.hasSuffix("4 checks: 1 passed, 1 warned, 1 failed, 1 skipped in 437 ms\n"))
        #expect(!table.contains("\u{1B}["))
        #expect(TableReporter(colour: true).render(report).contains("\u{1B}[31m✘"))
    }

    /// A cron line or error message from the host carrying escape sequences: colours, a window
    /// title (OSC), "clear screen", a C1 CSI and a bidi override that reorders the line.
    static let hostile = "ok\u{1B}[2J\u{1B}[31mred\u{1B}[0m\u{1B}]0;pwned\u{07}\u{9B}1mX\u{202E}txt.exe\rline2\nline3\u{7F}"

    var hostileReport: VerifyReport {
        var report = report
        report.results[0].message = Self.hostile
        report.results[0].evidence = [Evidence("line", Self.hostile)]
        return report
    }

    @Test func tableStripsEscapeSequencesAndControlCharactersFromHostText() throws {
        let table = TableReporter(colour: false).render(hostileReport)
        let line = try #require(table.split(separator: "\n").first { $0.contains("cron-scheduled") })
        #expect(line.contains("okredXtxt.exe line2 line3"), "\(line)")
        #expect(!table.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        #expect(!table.unicodeScalars.contains { (0x7F..<0xA0).contains($0.value) || $0.value == 0x202E })
        // One line per check, whatever the message held.
        #expect(table.split(separator: "\n").count == report.results.count + 2)
    }

    @Test func jsonKeepsHostTextEscaped() throws {
        let json = JSONReporter().render(hostileReport)
        #expect(json.contains("\\u001b[2J"))
        #expect(!json.unicodeScalars.contains { $0.value == 0x1B })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks[0]["message"] as? String == Self.hostile)
    }

    @Test func junitKeepsHostTextEscapedAndValid() async throws {
        let xml = JUnitReporter().render(hostileReport)
        #expect(!xml.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 })
        #expect(xml.contains("\\u001B[2J"))
        let document = try XMLDocument(xmlString: xml)
        #expect(try document.nodes(forXPath: "//testcase").count == 4)
    }
}
