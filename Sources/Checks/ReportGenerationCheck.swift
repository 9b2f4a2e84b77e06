import Basics
import HostCommands

/// The runbook's check 6: run the report script by hand. The run starts at once (`prefetch`);
/// the host lets the script run only when the database container can serve and the script is
/// runnable, and the runner reports this check only once those prerequisites passed.
struct ReportGenerationCheck: Check {
    let id = CheckID.reportGeneration
    let title = "Weekly report script runs"
    let prerequisites: [CheckID] = [.scriptExecutable, .dbRunning]

    func prefetch(in context: CheckContext) {
        Task { _ = try? await context.fact(context.probes.reportRun) }
    }

    func commands(in probes: CheckProbes) -> [RemoteCommand] {
        [probes.reportRun.probe.command]
    }

    func run(in context: CheckContext) async throws -> Verdict {
        Self.evaluate(try await context.fact(context.probes.reportRun), script: context.settings.path(context.settings.reportScript))
    }

    static func evaluate(_ run: ReportRun, script: String) -> Verdict {
        switch run.outcome {
        case .refused(let reason):
            return .fail("\(script) was not run: when it was due, \(reason).")
        case let .ran(termination, startedAt, finishedAt):
            let evidence = [Evidence("exit", termination.description), Evidence("seconds", String(secondsBetween(startedAt, finishedAt)))]
            guard termination == .exited(0) else {
                let detail = lastLines(run.errorOutput.isEmpty ? run.output : run.errorOutput)
                return .fail("\(script) failed (\(termination))" + (detail.isEmpty ? "" : ": \(detail)"), evidence)
            }
            return .pass(lastLines(run.output, count: 1).isEmpty ? "exit 0" : lastLines(run.output, count: 1), evidence)
        }
    }
}

func lastLines(_ text: String, count: Int = 3) -> String {
    text.split(separator: "\n").suffix(count).joined(separator: " | ")
}
