@testable import Checks
import Testing

@Suite struct ReportFileCheckTests {
    func run(newest: ReportRun.ReportFile?) -> ReportRun {
        ReportRun(termination: .exited(0), output: "", errorOutput: "", startedAt: 1000, finishedAt: 1002, newest: newest)
    }

    @Test func passesForAFileFromThisRun() {
        let verdict = ReportFileCheck.evaluate(run(newest: .init(path: "/opt/bot/logs/weekly_review_x.txt", size: 572, modified: 1001)), settings: Fixture.settings)
        #expect(verdict.status == .pass)
        #expect(verdict.evidence.contains(Evidence("size", "572")))
    }

    @Test func oldFileMeansThisRunWroteElsewhere() {
        let verdict = ReportFileCheck.evaluate(run(newest: .init(path: "/opt/bot/logs/weekly_review_x.txt", size: 572, modified: 1002 - 3600)), settings: Fixture.settings)
        #expect(verdict.status == .fail)
        #expect(verdict.message.contains("this run did not write"))
    }

    @Test func noFileOrEmptyFileFails() {
        #expect(ReportFileCheck.evaluate(run(newest: nil), settings: Fixture.settings).message.contains("no file matches /opt/bot/logs/weekly_review_*.txt"))
        #expect(ReportFileCheck.evaluate(run(newest: .init(path: "/x", size: 0, modified: 1001)), settings: Fixture.settings).message.contains("empty"))
    }
}
