@testable import Cron
import PropertyBased
import Testing

@Suite struct CronEntryTests {
    @Test func weeklyEntryParses() throws {
        let weekly = try entry(weeklyEntryText)
        #expect(weekly.name == "weekly-strategy-review")
        #expect(weekly.zone == losAngeles)
        #expect(weekly.schedule.text == "0 9 * * 1")
        #expect(weekly.command == "/opt/bot/weekly_strategy_review.sh >> /opt/bot/logs/weekly_review_cron.log 2>&1")
        #expect(weekly.parsedCommand.programs == ["/opt/bot/weekly_strategy_review.sh"])
        #expect(weekly.blackoutSeconds == 600)
        #expect(weekly.expects == ["logs/weekly_review_*.txt"])
        #expect(weekly.logFile == "/opt/bot/logs/weekly_review_cron.log")
    }

    @Test func zoneIsOptionalAndKeywordsWork() throws {
        let report = try entry("@hourly /opt/bot/scripts/run_daily_report.sh\n", name: "report")
        #expect(report.zone == nil)
        #expect(report.schedule.text == "@hourly")
        #expect(report.logFile == nil)
        #expect(try entry("0 0 * * * a.sh 2>/dev/null >out.log", name: "x").logFile == "out.log")
    }

    @Test(arguments: [
        ("CRON_TZ=America/Los_Angeles\n0 25 * * 1 /opt/bot/x.sh\n",
         "crontab.d/e.cron:2: field 'hour' value '25': 25 is out of range; allowed 0-23"),
        ("CRON_TZ=Pacific Time\n0 9 * * 1 x\n",
         "crontab.d/e.cron:1: CRON_TZ 'Pacific Time' is not a time zone of the tz database; use a name such as America/Los_Angeles or UTC"),
        ("CRON_TZ=PST\n0 9 * * 1 x\n",
         "crontab.d/e.cron:1: CRON_TZ 'PST' is not a time zone of the tz database; use a name such as America/Los_Angeles or UTC"),
        ("0 9 * * 1 x\nCRON_TZ=UTC\n", "crontab.d/e.cron:2: CRON_TZ must come before the schedule line"),
        ("MAILTO=ops\n0 9 * * 1 x\n",
         "crontab.d/e.cron:1: 'MAILTO=' is not supported here: an entry may set only CRON_TZ; set other variables inside the command or its script"),
        ("0 9 * * 1 x\n0 10 * * 1 y\n",
         "crontab.d/e.cron:2: a second schedule line (the first is line 1); one entry per file: put this job in its own file"),
        ("# only a comment\n", "crontab.d/e.cron: no schedule line; add one such as '0 9 * * 1 /opt/bot/weekly_strategy_review.sh'"),
        ("0 9 * * 1\n", "crontab.d/e.cron:1: expected a schedule and a command, such as '0 9 * * 1 /opt/bot/weekly_strategy_review.sh'"),
        ("0 9 * * 1 x\n# botops: blackout 10 minutes\n",
         "crontab.d/e.cron:2: directive 'blackout' takes one duration from 1m to 12h, such as 10m or 1h; got 'blackout 10 minutes'"),
        ("0 9 * * 1 x\n# botops: blackout 30s\n",
         "crontab.d/e.cron:2: directive 'blackout' takes one duration from 1m to 12h, such as 10m or 1h; got 'blackout 30s'"),
        ("0 9 * * 1 x\n# botops: expects ../secret\n",
         "crontab.d/e.cron:2: directive 'expects' takes one path pattern without spaces or '..', such as logs/weekly_review_*.txt; got 'expects ../secret'"),
        ("0 9 * * 1 x\n# botops: retry 3\n",
         "crontab.d/e.cron:2: unknown directive 'retry'; expected 'blackout DURATION' or 'expects PATTERN'"),
        ("CRON_TZ=UTC\n@reboot x\n", "crontab.d/e.cron:1: @reboot has no time of day, so CRON_TZ means nothing here; remove it"),
    ])
    func errorsNameFileLineAndField(text: String, message: String) {
        do {
            let parsed = try CronEntry.parse(text, name: "e", source: "crontab.d/e.cron")
            Issue.record("parsed: \(parsed)")
        } catch {
            #expect("\(error)" == message)
        }
    }

    @Test func entryNamesAreChecked() {
        #expect(throws: EntryError.self) { try CronEntry.parse("0 9 * * 1 x", name: "../x", source: "crontab.d/../x.cron") }
        #expect(throws: EntryError.self) { try CronEntry.parse("0 9 * * 1 x", name: "-rf", source: "crontab.d/-rf.cron") }
        #expect(CronEntry.isValidName("weekly-strategy-review"))
        #expect(!CronEntry.isValidName("a b"))
        #expect(!CronEntry.isValidName(""))
    }

    @Test func randomFilesNeverCrashTheParser() async {
        let pieces = oneOf(["0", "9", "*", "*/15", "1-5", "MON", "@weekly", "@reboot", " ", "\t", "\n", "\r\n", "#", "# botops: ",
                                              "blackout", "10m", "expects", "CRON_TZ=", "America/Los_Angeles", "Mars/Olympus", "=", "%",
                                              "/opt/bot/x.sh", ">>", "log", "\u{0}", "é", "\"", "'", ".."])
        await propertyCheck(count: 3000, input: pieces.array(of: 0...30)) { parts in
            _ = try? CronEntry.parse(parts.joined(), name: "random", source: "crontab.d/random.cron")
        }
    }
}
