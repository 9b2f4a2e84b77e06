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
            CheckResult(id: "cron-scheduled", title: "Cron", status: .pass, message: "0 9 * * 1 /opt/bot/x.sh >> log 2>&1",
                        evidence: [Evidence("line", "0 9 * * 1 /opt/bot/x.sh >> log 2>&1")], duration: .milliseconds(74)),
            CheckResult(id: "db-running", title: "DB", status: .warn, message: "healthcheck <starting> & \"pending\"",
                        evidence: [], duration: .milliseconds(5)),
            CheckResult(id: "db-connectivity", title: "Conn", status: .fail, message: "relation \"trade_records\" does not exist\u{1}",
                        evidence: [Evidence("sqlstate", "42P01")], duration: .milliseconds(40)),
            CheckResult(id: "report-file", title: "File", status: .skip, message: "skipped: report-generation failed",
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
}
