@testable import BotOpsKit
import Cron
import Foundation
import SandboxSupport
import Testing

/// crontab.d read from the working tree and from a git revision (a real git repository).
@Suite struct CronEntriesTests {
    func git(_ arguments: [String], in directory: URL) throws {
        let result = try runProgram(["git", "-C", directory.path, "-c", "user.name=t", "-c", "user.email=t@t.invalid"] + arguments)
        #expect(result.status == 0, "git \(arguments): \(result.stderr)")
    }

    @Test func installRefInstallsTheEntriesOfThatRevisionAndTouchesNothingElse() throws {
        let repository = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: repository) }
        let directory = repository.appendingPathComponent("crontab.d")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try git(["init", "-q"], in: repository)
        try weeklyEntryText.write(to: directory.appendingPathComponent("weekly-strategy-review.cron"), atomically: true, encoding: .utf8)
        try "0 9 * * * /opt/bot/scripts/run_daily_report.sh\n".write(to: directory.appendingPathComponent("report.cron"), atomically: true, encoding: .utf8)
        try git(["add", "."], in: repository)
        try git(["commit", "-qm", "daily report"], in: repository)
        try "0 */6 * * * /opt/bot/scripts/run_daily_report.sh\n".write(to: directory.appendingPathComponent("report.cron"), atomically: true, encoding: .utf8)
        try git(["commit", "-qam", "report every six hours"], in: repository)

        let current = try CronEntries.load(directory: directory.path)
        let previous = try CronEntries.load(directory: directory.path, revision: "HEAD~1")
        #expect(current.map(\.schedule.text) == ["0 */6 * * *", "0 9 * * 1"])
        #expect(previous.map(\.schedule.text) == ["0 9 * * *", "0 9 * * 1"])
        #expect(previous.first?.source == "HEAD~1:crontab.d/report.cron")

        // Rollback plan B: the crontab installed from HEAD, then installed from HEAD~1.
        let userLines = "MAILTO=ops\n17 3 * * * /usr/bin/tidy\n"
        let installed = try ManagedCrontab(Crontab(text: userLines)).plan(installing: current, host: debianHost, now: renderNow).proposed
        let rolledBack = try ManagedCrontab(installed).plan(installing: previous, host: debianHost, now: renderNow)
        #expect(rolledBack.changes.map(\.change) == [.updated, .unchanged])
        #expect(rolledBack.diff().split(separator: "\n").filter { $0.hasPrefix("-0") || $0.hasPrefix("+0") }
                == ["-0 */6 * * * /opt/bot/scripts/run_daily_report.sh", "+0 9 * * * /opt/bot/scripts/run_daily_report.sh"])
        #expect(try ManagedCrontab(rolledBack.proposed).unmanagedLines.map(\.bytes) == Crontab(text: userLines).lines)
    }

    @Test func badRevisionsAndEmptyDirectoriesAreRefused() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: EntryError.self) { try CronEntries.load(directory: directory.path) }
        #expect(throws: EntryError.self) { try CronEntries.load(directory: directory.path, revision: "--upload-pack=evil") }
        #expect(throws: EntryError.self) { try CronEntries.load(directory: directory.path, revision: "HEAD:x") }
        #expect(throws: EntryError.self) { try CronEntries.load(directory: directory.path, revision: "no-such-revision") }
    }
}
