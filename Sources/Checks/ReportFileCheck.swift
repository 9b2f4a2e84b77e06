/// Seed 000 check 7: `ls -lh /opt/bot/logs/weekly_review_*.txt | tail -1`, and it must be this
/// run's report, not last week's.
struct ReportFileCheck: Check {
    let id = CheckID.reportFile
    let title = "Report file was written"
    let prerequisites: [CheckID] = [.reportGeneration]

    func run(in context: CheckContext) async throws -> Verdict {
        Self.evaluate(try await context.reportRun(), settings: context.settings)
    }

    static func evaluate(_ run: ReportRun, settings: CheckSettings) -> Verdict {
        let pattern = settings.path(settings.reportGlob)
        guard let file = run.newest else {
            return .fail("the script exited 0 but no file matches \(pattern). Check where it writes its report.")
        }
        let age = max(0, run.finishedAt - file.modified)
        let evidence = [Evidence("file", file.path), Evidence("size", String(file.size)), Evidence("age", formatAge(age))]
        // Whole seconds on both sides: a file from this run is at least as new as its start second.
        guard file.modified >= run.startedAt else {
            return .fail("newest report \(file.path) is \(formatAge(age)) old: this run did not write a file matching \(pattern).", evidence)
        }
        guard file.size > 0 else {
            return .fail("\(file.path) is empty.", evidence)
        }
        return .pass("\(file.path) (\(file.size) bytes, \(formatAge(age)) old)", evidence)
    }
}
