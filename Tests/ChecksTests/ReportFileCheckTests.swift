@testable import Checks
import Testing

@Suite struct ReportFileCheckTests {
    typealias File = ReportRun.ReportFile
    let old = File(path: "/opt/bot/logs/weekly_review_2026-11-16.txt", inode: "11", modified: "1000.000000000", size: 500, kind: "regular file")
    let new = File(path: "/opt/bot/logs/weekly_review_2026-11-23.txt", inode: "12", modified: "2001.250000000", size: 572, kind: "regular file")

    func run(before: [File], after: [File], now: Int = 2002) -> ReportRun {
        ReportRun(outcome: .ran(.exited(0), startedAt: 2000, finishedAt: 2002), output: "", errorOutput: "",
                  before: before, after: after, now: now)
    }

    func evaluate(_ run: ReportRun) -> Verdict {
        ReportFileCheck.evaluate(run, settings: Fixture.settings)
    }

    @Test func passesForAFileThisRunCreated() {
        let verdict = evaluate(run(before: [old], after: [old, new]))
        #expect(verdict.status == .pass)
        #expect(verdict.message == "\(new.path) (572 bytes, created by this run)")
        #expect(verdict.evidence.contains(Evidence("size", "572")))
    }

    @Test func passesForAFileRewrittenInPlaceOrReplaced() {
        var inPlace = new
        inPlace.modified = "2001.750000000"
        #expect(evaluate(run(before: [new], after: [inPlace])).message.contains("rewritten by this run"))
        var replaced = new
        replaced.inode = "13"
        #expect(evaluate(run(before: [new], after: [replaced])).status == .pass)
    }

    @Test func unchangedFilesMeanThisRunWroteElsewhere() {
        let verdict = evaluate(run(before: [old], after: [old]))
        #expect(verdict.status == .fail)
        #expect(verdict.message.contains("this run did not create or change a file matching /opt/bot/logs/weekly_review_*.txt"))
    }

    /// An older report with a future modification time (a clock step, a copied file) used to pass
    /// for this run's, since it was newer than the run's start.
    @Test func anUnchangedFileWithAFutureTimeFailsAndSaysSo() {
        let future = File(path: old.path, inode: "11", modified: "9000.000000000", size: 500, kind: "regular file")
        let verdict = evaluate(run(before: [future], after: [future]))
        #expect(verdict.status == .fail)
        #expect(verdict.message.contains("in the future"))
    }

    @Test func noFileOrEmptyFileFails() {
        #expect(evaluate(run(before: [], after: [])).message.contains("no file matches /opt/bot/logs/weekly_review_*.txt"))
        var empty = new
        empty.size = 0
        #expect(evaluate(run(before: [], after: [empty])).message.contains("empty"))
    }

    /// A directory (or other non-file) matching the glob, created by this run, used to pass as
    /// the report: `stat` gives it a size and a fresh time.
    @Test func aDirectoryMatchingTheGlobIsNotAReport() {
        var directory = new
        directory.kind = "directory"
        directory.size = 4096
        let verdict = evaluate(run(before: [old], after: [old, directory]))
        #expect(verdict.status == .fail)
        #expect(verdict.message.contains("is a directory, not a regular file"))
    }

    /// A report of blanks and newlines has a size, and used to pass as written.
    @Test func aReportOfOnlyWhitespaceFails() {
        var blank = run(before: [old], after: [old, new])
        blank.blankFiles = [new.path]
        let verdict = evaluate(blank)
        #expect(verdict.status == .fail)
        #expect(verdict.message == "\(new.path) holds only whitespace (572 bytes). Check the script's queries and its output.")
    }

    /// A new name for an old report (a symlink or hard link made by the script, which `stat -L`
    /// sees as the old file) used to pass as created by this run.
    @Test func aNewLinkToAnOldReportIsNotThisRunsReport() {
        var link = old
        link.path = new.path
        #expect(evaluate(run(before: [old], after: [old, link])).status == .fail)
        // The same with the old file outside the glob: modified before the run started.
        #expect(evaluate(run(before: [], after: [link])).status == .fail)
    }
}
