@testable import Checks
import Testing

@Suite struct CronScheduledCheckTests {
    func verdict(_ lines: [String], now: Int = Fixture.host.now, utcOffset: Int = 0) -> Verdict {
        var facts = Fixture.host
        facts.crontabLines = lines
        facts.now = now
        facts.utcOffset = utcOffset
        return CronScheduledCheck().evaluate(facts, settings: Fixture.settings)
    }

    @Test func passesWithTheLineItsScheduleAndNextRun() {
        // 1_700_000_100 is Tuesday 2023-11-14 22:15 UTC; the entry runs Mondays at 09:00.
        let result = verdict(["MAILTO=ops", Fixture.cronLine])
        #expect(result.status == .pass)
        #expect(result.evidence == [Evidence("line", Fixture.cronLine), Evidence("schedule", "0 9 * * 1"),
                                    Evidence("next_run", "2023-11-20 09:00 +0000")])
        #expect(result.message.hasPrefix("next run 2023-11-20 09:00 +0000 (in 5d10h): 0 9 * * 1 /opt/bot/"))
    }

    @Test func nextRunFollowsTheHostsOffset() {
        // The same instant is Tuesday 14:15 at -0800: the next Monday 09:00 there is 2023-11-20 17:00 UTC.
        let result = verdict([Fixture.cronLine], utcOffset: -8 * 3600)
        #expect(result.evidence.last == Evidence("next_run", "2023-11-20 09:00 -0800"))
    }

    @Test func linesThatRunTheScriptPass() {
        for line in [
            "0 9 * * 1 cd /opt/bot && ./weekly_strategy_review.sh >> logs/cron.log 2>&1",
            "0 9 * * mon BOT_ENV=prod /bin/bash -e /opt/bot/weekly_strategy_review.sh",
            "@weekly nice -n 10 '/opt/bot/weekly_strategy_review.sh'",
            "0 9 * * 1 [ \"$(date +\\%H)\" = 09 ] && /opt/bot/weekly_strategy_review.sh",
            "*/15 9-17 * * 1-5 flock-free; /opt/bot/weekly_strategy_review.sh",
        ] {
            #expect(verdict([line]).status == .pass, "\(line)")
        }
    }

    /// Lines that mention the path without running it: the substring match used to pass them.
    @Test func linesThatOnlyMentionTheScriptFail() {
        for line in [
            "REVIEW=/opt/bot/weekly_strategy_review.sh",
            "0 9 * * 1 /opt/bot.old/weekly_strategy_review.sh",
            "0 9 * * 1 /opt/bot/weekly_strategy_review.sh.bak",
            "0 9 * * 1 echo /opt/bot/weekly_strategy_review.sh",
            "0 9 * * 1 cat /opt/bot/weekly_strategy_review.sh | mail ops",
            "0 9 * * 1 cd /tmp && ./weekly_strategy_review.sh",
            "61 9 * * 1 /opt/bot/weekly_strategy_review.sh",
            "0 9 * * 1 true % /opt/bot/weekly_strategy_review.sh",
            // cron cuts the command at an unescaped % even inside quotes: the script is stdin.
            "0 9 * * 1 echo '%'; /opt/bot/weekly_strategy_review.sh",
            "0 9 * * 1 logger \"done %\" && /opt/bot/weekly_strategy_review.sh",
            // A # starting a word comments out the rest of the line, separators included.
            "0 9 * * 1 true #; /opt/bot/weekly_strategy_review.sh",
        ] {
            let result = verdict([line])
            #expect(result.status == .fail, "\(line)")
            #expect(result.message.contains("no crontab line runs /opt/bot/weekly_strategy_review.sh"), "\(line): \(result.message)")
        }
    }

    /// The entry is in the crontab but no cron daemon runs: it never fires, yet the line alone passed.
    @Test func anEntryWithoutACronDaemonFails() {
        var facts = Fixture.host
        facts.cronDaemonRunning = false
        let result = CronScheduledCheck().evaluate(facts, settings: Fixture.settings)
        #expect(result.status == .fail)
        #expect(result.message.contains("no cron daemon"))
        facts.cronDaemonRunning = nil
        #expect(CronScheduledCheck().evaluate(facts, settings: Fixture.settings).status == .pass)
    }

    @Test func commentedOutEntryFails() {
        let result = verdict(["  # " + Fixture.cronLine])
        #expect(result.status == .fail)
        #expect(result.message.contains("commented out"))
    }

    @Test func rebootAndImpossibleSchedules() {
        #expect(verdict(["@reboot /opt/bot/weekly_strategy_review.sh"]).message.hasPrefix("runs at boot only"))
        let never = verdict(["0 9 31 2 * /opt/bot/weekly_strategy_review.sh"])
        #expect(never.status == .fail)
        #expect(never.message.contains("never fires"))
    }

    @Test func missingEntryAndNoCrontabFail() {
        #expect(verdict(["MAILTO=ops"]).message.contains("no crontab line runs /opt/bot/weekly_strategy_review.sh"))
        var facts = Fixture.host
        facts.crontabStatus = 1
        facts.crontabLines = ["no crontab for bot"]
        let result = CronScheduledCheck().evaluate(facts, settings: Fixture.settings)
        #expect(result.status == .fail)
        #expect(result.message.contains("no crontab"))
    }

    @Test func crontabErrorOtherThanEmptyFails() {
        var facts = Fixture.host
        facts.crontabStatus = 2
        facts.crontabLines = ["crontab: cannot connect"]
        let result = CronScheduledCheck().evaluate(facts, settings: Fixture.settings)
        #expect(result.status == .fail)
        #expect(result.message.contains("status 2"))
    }
}

@Suite struct CronScheduleTests {
    func next(_ fields: String, after epoch: Int, offset: Int = 0) -> String? {
        let schedule = fields.hasPrefix("@") ? CronSchedule.keyword(Substring(fields)) : CronSchedule.parse(fields.split(separator: " "))
        return schedule?.nextFire(after: epoch, utcOffset: offset).map { formatLocalMinute($0, utcOffset: offset) }
    }

    // 1_700_000_100 = Tuesday 2023-11-14 22:15:00 UTC.
    let tuesday = 1_700_000_100

    @Test func fieldsListsRangesStepsAndNames() {
        #expect(next("* * * * *", after: tuesday) == "2023-11-14 22:16 +0000")
        #expect(next("*/20 * * * *", after: tuesday) == "2023-11-14 22:20 +0000")
        #expect(next("5,10 8-9 * * *", after: tuesday) == "2023-11-15 08:05 +0000")
        #expect(next("0 0 1 jan *", after: tuesday) == "2024-01-01 00:00 +0000")
        #expect(next("0 9 * * sun", after: tuesday) == "2023-11-19 09:00 +0000")
        #expect(next("0 9 * * 7", after: tuesday) == "2023-11-19 09:00 +0000")
        #expect(next("@daily", after: tuesday) == "2023-11-15 00:00 +0000")
        #expect(next("0 0 29 2 *", after: tuesday) == "2024-02-29 00:00 +0000")
    }

    @Test func restrictedDayFieldsMatchEitherAsCronDoes() {
        // The 20th or any Friday: Friday the 17th comes first.
        #expect(next("0 12 20 * fri", after: tuesday) == "2023-11-17 12:00 +0000")
        // A `*` day of month leaves only the day of week.
        #expect(next("0 12 */2 * fri", after: tuesday) == "2023-11-17 12:00 +0000")
    }

    @Test func invalidFieldsAreNotSchedules() {
        for fields in ["60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "a * * * *", "* * * *", "1,,2 * * * *"] {
            #expect(CronSchedule.parse(fields.split(separator: " ")) == nil, "\(fields)")
        }
    }
}
