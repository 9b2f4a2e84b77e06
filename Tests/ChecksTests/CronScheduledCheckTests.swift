@testable import Checks
import Testing

@Suite struct CronScheduledCheckTests {
    @Test func passesWithTheMatchingLineAsEvidence() {
        let verdict = CronScheduledCheck().evaluate(Fixture.host, settings: Fixture.settings)
        #expect(verdict.status == .pass)
        #expect(verdict.evidence == [Evidence("line", Fixture.cronLine)])
    }

    @Test func commentedOutEntryFails() {
        var facts = Fixture.host
        facts.crontabLines = ["  # " + Fixture.cronLine]
        let verdict = CronScheduledCheck().evaluate(facts, settings: Fixture.settings)
        #expect(verdict.status == .fail)
        #expect(verdict.message.contains("commented out"))
    }

    @Test func missingEntryAndNoCrontabFail() {
        var facts = Fixture.host
        facts.crontabLines = ["MAILTO=ops"]
        #expect(CronScheduledCheck().evaluate(facts, settings: Fixture.matching("weekly")).message.contains("no crontab line mentions 'weekly'"))
        facts.crontabStatus = 1
        facts.crontabLines = ["no crontab for bot"]
        let verdict = CronScheduledCheck().evaluate(facts, settings: Fixture.matching("weekly"))
        #expect(verdict.status == .fail)
        #expect(verdict.message.contains("no crontab"))
    }

    @Test func crontabErrorOtherThanEmptyFails() {
        var facts = Fixture.host
        facts.crontabStatus = 2
        facts.crontabLines = ["crontab: cannot connect"]
        let verdict = CronScheduledCheck().evaluate(facts, settings: Fixture.matching("weekly"))
        #expect(verdict.status == .fail)
        #expect(verdict.message.contains("status 2"))
    }
}
