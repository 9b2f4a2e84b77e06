@testable import Checks
import Cron
import Foundation
import Testing

@Suite struct CronScheduledCheckTests {
    func verdict(_ lines: [String], now: Int = Fixture.host.now, zone: String = "UTC", daemon: CronDaemon = .debian) -> Verdict {
        var facts = Fixture.host
        facts.crontab = .listed(lines)
        facts.now = now
        facts.cronTime = .success(CronHostTime(zone: CronZone(identifier: zone)!, honoursCronTZ: daemon == .cronie))
        return CronScheduledCheck().evaluate(facts, settings: Fixture.settings)
    }

    @Test func passesWithTheLineItsScheduleAndNextRun() {
        // 1_700_000_100 is Tuesday 2023-11-14 22:15 UTC; the entry runs Mondays at 09:00.
        let result = verdict(["MAILTO=ops", Fixture.cronLine])
        #expect(result.status == .pass)
        #expect(result.evidence == [Evidence("line", Fixture.cronLine), Evidence("schedule", "0 9 * * 1"),
                                    Evidence("next_run", "2023-11-20 09:00 UTC")])
        #expect(result.message.hasPrefix("next run 2023-11-20 09:00 UTC (in 5d10h): 0 9 * * 1 /opt/bot/"))
    }

    @Test func nextRunFollowsTheHostsZone() {
        // The same instant is Tuesday 14:15 in Los Angeles: the next Monday 09:00 there is 2023-11-20 17:00 UTC.
        let result = verdict([Fixture.cronLine], zone: "America/Los_Angeles")
        #expect(result.evidence.last == Evidence("next_run", "2023-11-20 09:00 America/Los_Angeles"))
        #expect(result.message.contains("(in 5d18h45m)") || result.message.contains("(in 5d18h)"), "\(result.message)")
    }

    /// Saturday 2026-03-07 12:00 UTC (04:00 PST): the next Monday 09:00 in Los Angeles is PDT, 16:00 UTC,
    /// 2d4h away. A fixed offset read before the change said 17:00 UTC, an hour late.
    @Test func nextRunIsDSTCorrect() {
        let saturday = Int(ISO8601DateFormatter().date(from: "2026-03-07T12:00:00Z")!.timeIntervalSince1970)
        let result = verdict([Fixture.cronLine], now: saturday, zone: "America/Los_Angeles")
        #expect(result.evidence.last == Evidence("next_run", "2026-03-09 09:00 America/Los_Angeles"))
        #expect(result.message.contains("(in 2d4h)"), "\(result.message)")
    }

    /// A CRON_TZ line moves the lines after it to its zone on a cron that honours it, and only there.
    @Test func cronTZCountsOnlyWhereTheDaemonHonoursIt() {
        let lines = ["CRON_TZ=America/Los_Angeles", Fixture.cronLine]
        #expect(verdict(lines, daemon: .cronie).evidence.last == Evidence("next_run", "2023-11-20 09:00 America/Los_Angeles"))
        #expect(verdict(lines, daemon: .debian).evidence.last == Evidence("next_run", "2023-11-20 09:00 UTC"))
    }

    /// `5/15` is read as the host's cron reads it: Debian's refuses the line ("bad minute", so it never
    /// runs); cronie runs it at 5, 20, 35 and 50. The Checks' own parser passed it everywhere.
    @Test func aStepOnASingleValueIsReadAsTheHostsCronReadsIt() {
        let line = "5/15 9 * * 1 /opt/bot/weekly_strategy_review.sh"
        let debian = verdict([line], daemon: .debian)
        #expect(debian.status == .fail)
        #expect(debian.message.contains("Debian's cron refuses this line"), "\(debian.message)")
        let cronie = verdict([line], daemon: .cronie)
        #expect(cronie.status == .pass)
        #expect(cronie.evidence.last == Evidence("next_run", "2023-11-20 09:05 UTC"))
    }

    /// cron cuts the command at `%` (the rest is stdin): `$(date +` is left, which the shell refuses,
    /// so the script never runs. The line only mentions the script.
    @Test func anUnescapedPercentThatBreaksTheShellCommandFails() {
        let result = verdict(["0 9 * * 1 /opt/bot/weekly_strategy_review.sh > /opt/bot/logs/review_$(date +%F).log 2>&1"])
        #expect(result.status == .fail, "\(result.message)")
        #expect(verdict(["0 9 * * 1 /opt/bot/weekly_strategy_review.sh > /opt/bot/logs/review_$(date +\\%F).log 2>&1"]).status == .pass)
    }

    /// Debian's cron ignores a whole crontab in which one line is refused ("Syntax error, this
    /// crontab file will be ignored"): the weekly line, valid itself, never runs there. cronie
    /// skips only the bad line.
    @Test func anotherLineDebiansCronRefusesFailsTheWholeCrontabThere() {
        let lines = ["5/15 * * * * /opt/bot/other.sh", Fixture.cronLine]
        let debian = verdict(lines, daemon: .debian)
        #expect(debian.status == .fail, "\(debian.message)")
        #expect(debian.message.contains("line 1"), "\(debian.message)")
        #expect(verdict(["garbage line", Fixture.cronLine], daemon: .debian).status == .fail)
        #expect(verdict(lines, daemon: .cronie).status == .pass)
        #expect(verdict(["# 5/15 * * * * /opt/bot/other.sh", Fixture.cronLine], daemon: .debian).status == .pass)
    }

    @Test func aFieldOutOfRangeIsALineCronDoesNotRun() {
        let result = verdict(["61 9 * * 1 /opt/bot/weekly_strategy_review.sh"])
        #expect(result.status == .fail)
        #expect(result.message.contains("the host's cron does not run this line"), "\(result.message)")
    }

    @Test func anUnknownCronZoneFails() {
        var facts = Fixture.host
        facts.cronTime = .failure(CronTimeProbeError(detail: "/etc/localtime is a copy and /etc/timezone is missing"))
        let result = CronScheduledCheck().evaluate(facts, settings: Fixture.settings)
        #expect(result.status == .fail)
        #expect(result.message.contains("/etc/timezone is missing"))
    }

    @Test func linesThatRunTheScriptPass() {
        for line in [
            "0 9 * * 1 cd /opt/bot && ./weekly_strategy_review.sh >> logs/cron.log 2>&1",
            "0 9 * * 1 bash /opt/bot/weekly_strategy_review.sh",
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
        facts.crontab = CrontabListing(status: 1, output: ["no crontab for bot"])
        let result = CronScheduledCheck().evaluate(facts, settings: Fixture.settings)
        #expect(result.status == .fail)
        #expect(result.message.contains("no crontab"))
    }

    @Test func crontabErrorOtherThanEmptyFails() {
        var facts = Fixture.host
        facts.crontab = CrontabListing(status: 2, output: ["crontab: cannot connect"])
        let result = CronScheduledCheck().evaluate(facts, settings: Fixture.settings)
        #expect(result.status == .fail)
        #expect(result.message.contains("status 2"))
    }

    /// Status 1 is "no crontab" only when crontab says so: any other status-1 complaint fails.
    @Test func statusOneForAnotherReasonIsNotAnEmptyCrontab() {
        var facts = Fixture.host
        facts.crontab = CrontabListing(status: 1, output: ["crontab: your UID isn't in the passwd file."])
        let result = CronScheduledCheck().evaluate(facts, settings: Fixture.settings)
        #expect(result.status == .fail)
        #expect(result.message.hasPrefix("crontab -l failed (status 1): crontab: your UID isn't in the passwd file."), "\(result.message)")
    }
}
