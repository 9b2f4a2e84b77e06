/// Seed 000 check 6: run `/opt/bot/weekly_strategy_review.sh` by hand.
struct ReportGenerationCheck: Check {
    let id = CheckID.reportGeneration
    let title = "Weekly report script runs"
    let prerequisites: [CheckID] = [.scriptExecutable, .dbRunning]

    func run(in context: CheckContext) async throws -> Verdict {
        Self.evaluate(try await context.reportRun(), script: context.settings.path(context.settings.reportScript))
    }

    static func evaluate(_ run: ReportRun, script: String) -> Verdict {
        let evidence = [Evidence("exit", run.termination.description), Evidence("seconds", String(run.finishedAt - run.startedAt))]
        guard run.termination == .exited(0) else {
            let detail = lastLines(run.errorOutput.isEmpty ? run.output : run.errorOutput)
            return .fail("\(script) failed (\(run.termination))" + (detail.isEmpty ? "" : ": \(detail)"), evidence)
        }
        return .pass(lastLines(run.output, count: 1).isEmpty ? "exit 0" : lastLines(run.output, count: 1), evidence)
    }
}

func lastLines(_ text: String, count: Int = 3) -> String {
    text.split(separator: "\n").suffix(count).joined(separator: " | ")
}
