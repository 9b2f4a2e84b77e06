@testable import BotOpsKit
import Checks
import Cron
import Foundation
import Testing

@Suite struct ScheduledRunsUnitTests {
    @Test func aFireStillWithinTheGraceIsNotJudgedYet() throws {
        let weekly = try entry(weeklyEntryText)
        func judged(_ now: String) -> String? {
            utcText(ScheduledRuns(entries: [weekly], appPath: "/opt/bot", now: utc(now)).judgedFire(weekly, zone: losAngeles))
        }
        #expect(judged("2026-11-23T17:10") == "2026-11-16T17:00")  // ten minutes after: may still run
        #expect(judged("2026-11-23T17:15") == "2026-11-23T17:00")
        #expect(judged("2026-07-07T00:00") == "2026-07-06T16:00")  // summer: 09:00 PDT
    }

    /// An entry whose command keeps no log leaves no evidence of its own: a report proves nothing.
    @Test func anEntryWithoutALogCannotBeJudgedByAReport() throws {
        let unlogged = try entry("0 9 * * 1 /opt/bot/weekly_strategy_review.sh\n# botops: expects logs/weekly_review_*.txt\n", name: "weekly")
        let judge = ScheduledRuns(entries: [unlogged], appPath: "/opt/bot", now: utc("2027-01-04T18:00"))
        let evidence = ScheduledRuns.EntryEvidence(output: (utc("2027-01-04T17:30"), "/opt/bot/logs/weekly_review_2027-01-04.txt"))
        let verdict = judge.verdict(unlogged, evidence, zone: .utc)
        #expect(verdict.status == .warn)
        #expect(verdict.message.contains("the command writes no log"), "\(verdict.message)")
    }

    /// A log modified after the instant judged (a clock stepped back, a file touched by hand) is
    /// not evidence of the fire: left alone it would pass every week to come.
    @Test func aLogWrittenInTheFutureIsNotEvidenceOfTheFire() throws {
        let weekly = try entry(weeklyEntryText)
        let judge = ScheduledRuns(entries: [weekly], appPath: "/opt/bot", now: utc("2027-01-04T18:00"))
        let report = (utc("2027-01-04T17:00"), "/opt/bot/logs/weekly_review_2027-01-04.txt")
        let future = judge.verdict(weekly, ScheduledRuns.EntryEvidence(logModified: utc("2027-03-01T00:00"), logTail: ["Report written"], output: report), zone: losAngeles)
        #expect(future.status == .warn, "\(future.message)")
        #expect(future.message.contains("in the future"), "\(future.message)")
        let ran = judge.verdict(weekly, ScheduledRuns.EntryEvidence(logModified: utc("2027-01-04T17:01"), logTail: ["Report written"], output: report), zone: losAngeles)
        #expect(ran.status == .pass, "\(ran.message)")
    }
}
