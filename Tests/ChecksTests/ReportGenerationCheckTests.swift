@testable import Checks
import Testing

@Suite struct ReportGenerationCheckTests {
    let run = ReportRun(outcome: .ran(.exited(0), startedAt: 100, finishedAt: 101),
                        output: "Report written: /opt/bot/logs/weekly_review_2026-11-23.txt",
                        errorOutput: "", before: [], after: [], now: 101)

    @Test func passesWithTheScriptsLastLine() {
        let verdict = ReportGenerationCheck.evaluate(run, script: "/opt/bot/weekly_strategy_review.sh")
        #expect(verdict.status == .pass)
        #expect(verdict.message == "Report written: /opt/bot/logs/weekly_review_2026-11-23.txt")
    }

    @Test func failureQuotesStderr() {
        var failed = run
        failed.outcome = .ran(.exited(1), startedAt: 100, finishedAt: 101)
        failed.errorOutput = "Error response from daemon: Container db is not running"
        let verdict = ReportGenerationCheck.evaluate(failed, script: "/opt/bot/weekly_strategy_review.sh")
        #expect(verdict.status == .fail)
        #expect(verdict.message.contains("failed (exit 1)"))
        #expect(verdict.message.contains("Container db is not running"))
    }

    @Test func refusedByTheHostGateFailsWithTheReason() {
        var refused = run
        refused.outcome = .refused("the database container is paused")
        let verdict = ReportGenerationCheck.evaluate(refused, script: "/opt/bot/weekly_strategy_review.sh")
        #expect(verdict.status == .fail)
        #expect(verdict.message == "/opt/bot/weekly_strategy_review.sh was not run: when it was due, the database container is paused.")
    }
}
