import Basics
import HostCommands

/// The runbook's check 7, `ls -lh logs/weekly_review_*.txt | tail -1`, made exact: a report this
/// run created or changed. Identity, modification time and size are compared before and after
/// the run, all read on the host, so an older report with a future time (a clock step, a copied
/// file) cannot pass for a new one.
struct ReportFileCheck: Check {
    let id = CheckID.reportFile
    let title = "Report file was written"
    let prerequisites: [CheckID] = [.reportGeneration]

    func run(in context: CheckContext) async throws -> Verdict {
        Self.evaluate(try await context.fact(context.probes.reportRun), settings: context.settings)
    }

    func commands(in probes: CheckProbes) -> [RemoteCommand] {
        [probes.reportRun.probe.command]
    }

    static func evaluate(_ run: ReportRun, settings: CheckSettings) -> Verdict {
        let pattern = settings.path(settings.reportGlob)
        // A regular file written by this run wins over a directory that happens to match.
        let written = run.written.contains(where: \.isRegular) ? run.written.filter(\.isRegular) : run.written
        guard let file = written.max(by: { $0.modified < $1.modified || ($0.modified == $1.modified && $0.path < $1.path) }) else {
            guard let newest = run.after.max(by: { $0.modifiedSeconds < $1.modifiedSeconds }) else {
                return .fail("the script exited 0 but no file matches \(pattern). Check where it writes its report.")
            }
            let future = newest.modifiedSeconds > run.now
                ? " Its modification time is \(formatAge(secondsBetween(run.now, newest.modifiedSeconds))) in the future (a clock step or a copied file)."
                : ""
            return .fail("this run did not create or change a file matching \(pattern); the newest, \(newest.path), is as it was before the run.\(future) Check where the script writes its report.",
                         [Evidence("newest", newest.path), Evidence("modified", formatUTC(newest.modifiedSeconds))])
        }
        let evidence = [Evidence("file", file.path), Evidence("size", String(file.size)), Evidence("modified", formatUTC(file.modifiedSeconds))]
        guard file.isRegular else {
            return .fail("\(file.path) is a \(file.kind), not a regular file. Check where the script writes its report.", evidence + [Evidence("kind", file.kind)])
        }
        guard file.size > 0 else {
            return .fail("\(file.path) is empty.", evidence)
        }
        guard !run.blankFiles.contains(file.path) else {
            return .fail("\(file.path) holds only whitespace (\(file.size) bytes). Check the script's queries and its output.", evidence)
        }
        let created = !run.before.contains { $0.path == file.path }
        return .pass("\(file.path) (\(file.size) bytes, \(created ? "created" : "rewritten") by this run)", evidence)
    }
}
