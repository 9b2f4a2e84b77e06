@testable import Checks
import Testing

@Suite struct ReportGenerationCheckTests {
    let run = ReportRun(termination: .exited(0), output: "Report written: /opt/bot/logs/weekly_review_2026-11-23.txt",
                        errorOutput: "", startedAt: 100, finishedAt: 101, newest: nil)

    @Test func passesWithTheScriptsLastLine() {
        let verdict = ReportGenerationCheck.evaluate(run, script: "/opt/bot/weekly_strategy_review.sh")
        #expect(verdict.status == .pass)
        #expect(verdict.message == "Report written: /opt/bot/logs/weekly_review_2026-11-23.txt")
    }

    @Test func failureQuotesStderr() {
        var failed = run
        failed.termination = .exited(1)
        failed.errorOutput = "Error response from daemon: Container db is not running"
        let verdict = ReportGenerationCheck.evaluate(failed, script: "/opt/bot/weekly_strategy_review.sh")
        #expect(verdict.status == .fail)
        #expect(verdict.message.contains("failed (exit 1)"))
        #expect(verdict.message.contains("Container db is not running"))
    }
}
