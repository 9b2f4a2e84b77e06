@testable import Cron
import PropertyBased
import Testing

@Suite struct ZoneGuardTests {
    @Test func weeklyReviewOnADebianHostInUTC() throws {
        let weekly = try entry(weeklyEntryText)
        let rendered = try weekly.render(for: debianHost, effectiveZone: .utc, now: renderNow)
        #expect(rendered.form == .guarded)
        #expect(rendered.lines == [
            #"0 16,17 * * * case $(TZ=America/Los_Angeles date +\%H:\%M/\%w/\%m/\%d) in 09:00/1/*) ;; *) exit 0;; esac; /opt/bot/weekly_strategy_review.sh >> /opt/bot/logs/weekly_review_cron.log 2>&1"#,
        ])
        #expect(rendered.note?.contains("ignores CRON_TZ") == true)
    }

    @Test func cronieGetsCronTZAndItsResetAndTheHostZoneGetsThePlainLine() throws {
        let weekly = try entry(weeklyEntryText)
        let rendered = try weekly.render(for: cronieHost, effectiveZone: .utc, now: renderNow)
        #expect(rendered.form == .cronTZ)
        #expect(rendered.lines == ["CRON_TZ=America/Los_Angeles",
                                   "0 9 * * 1 /opt/bot/weekly_strategy_review.sh >> /opt/bot/logs/weekly_review_cron.log 2>&1",
                                   "CRON_TZ=UTC"])
        let pacificHost = CronHostTime(zone: try #require(CronZone(identifier: "US/Pacific")), honoursCronTZ: false)
        let plain = try weekly.render(for: pacificHost, effectiveZone: pacificHost.zone, now: renderNow)
        #expect(plain.form == .plain)
        #expect(plain.lines == ["0 9 * * 1 /opt/bot/weekly_strategy_review.sh >> /opt/bot/logs/weekly_review_cron.log 2>&1"])
        let unzoned = try entry("0 */6 * * * /opt/bot/scripts/run_daily_report.sh", name: "report")
        #expect(try unzoned.render(for: debianHost, effectiveZone: .utc, now: renderNow).lines == ["0 */6 * * * /opt/bot/scripts/run_daily_report.sh"])
    }

    @Test func localDayDiffersFromTheUTCDay() throws {
        // Monday 20:00 in Los Angeles is Tuesday 03:00 or 04:00 UTC: the guard checks Los Angeles' day.
        let late = try entry("CRON_TZ=America/Los_Angeles\n0 20 * * 1 /opt/bot/late.sh", name: "late")
        let rendered = try late.render(for: debianHost, effectiveZone: .utc, now: renderNow)
        #expect(rendered.lines.first?.hasPrefix(#"0 3,4 * * * case $(TZ=America/Los_Angeles date +\%H:\%M/\%w/\%m/\%d) in 20:00/1/*) ;;"#) == true)
        let zoneGuard = ZoneGuard(schedule: late.schedule, zone: losAngeles)
        #expect(zoneGuard.admits(losAngeles.local(at: utc("2026-03-03T04:00"))))   // Monday 20:00 PST
        #expect(!zoneGuard.admits(losAngeles.local(at: utc("2026-03-03T03:00"))))  // Monday 19:00 PST
        #expect(zoneGuard.admits(losAngeles.local(at: utc("2026-07-07T03:00"))))   // Monday 20:00 PDT
    }

    @Test func patternsCompressSetsOfTwoDigitNumbers() {
        #expect(ZoneGuard.globs([0, 15, 30, 45], universe: 0...59) == ["[03]0", "[14]5"])
        #expect(ZoneGuard.globs([0, 6, 12, 18], universe: 0...23) == ["0[06]", "1[28]"])
        #expect(ZoneGuard.globs(Array(0...23), universe: 0...23) == ["??"])
        #expect(ZoneGuard.globs(Array(20...23), universe: 0...23) == ["2?"])
        #expect(ZoneGuard.globs(Array(10...19) + Array(20...23), universe: 0...23) == ["[12]?"])
        #expect(ZoneGuard.bracket([1, 2, 3, 4, 5]) == "[1-5]")
        #expect(ZoneGuard.bracket([0, 6]) == "[06]")
        #expect(ZoneGuard(schedule: schedule("0 0 13 * 5"), zone: .utc).patterns == ["00:00/?/??/13", "00:00/5/*"])
    }

    @Test func guardsAreRecognisedAndUnwrapped() throws {
        let line = try entry(weeklyEntryText).render(for: debianHost, effectiveZone: .utc, now: renderNow).lines[0]
        guard case .job(let scheduleText, let command) = CrontabLine(Array(line.utf8)) else { Issue.record("not a job"); return }
        #expect(scheduleText == "0 16,17 * * *")
        let unwrapped = try #require(ZoneGuard.unwrap(command))
        #expect(unwrapped.guard.zone == losAngeles)
        #expect(unwrapped.guard.patterns == ["09:00/1/*"])
        #expect(unwrapped.command == "/opt/bot/weekly_strategy_review.sh >> /opt/bot/logs/weekly_review_cron.log 2>&1")
        #expect(ZoneGuard.unwrap("/opt/bot/weekly_strategy_review.sh") == nil)
        #expect(ZoneGuard.unwrap("case $(TZ=Nowhere/Land date +\\%H:\\%M/\\%w/\\%m/\\%d) in x) ;; *) exit 0;; esac; y") == nil)
    }

    @Test func aScheduleTooIrregularToGuardIsRefusedNotInstalledWrong() throws {
        let irregular = try entry("CRON_TZ=America/Los_Angeles\n*/7 */5 */3 */2 * /opt/bot/x.sh", name: "irregular")
        #expect(throws: RenderError(entry: "irregular", problem: "this cron ignores CRON_TZ and the schedule '*/7 */5 */3 */2 *' is too irregular to guard in one crontab line; split it into several entries")) {
            try irregular.render(for: debianHost, effectiveZone: .utc, now: renderNow)
        }
        // cronie needs no guard.
        #expect(try irregular.render(for: cronieHost, effectiveZone: .utc, now: renderNow).form == .cronTZ)
    }

    static let expressions = ["0 9 * * 1", "*/15 * * * *", "30 2 * * *", "30 1 * * 0", "0 0 29 2 *", "0 */6 * * *", "5 4 * * sun",
                              "0 0 13 * 5", "0 0 */10 * 1", "59 23 31 12 *", "0 9-17 * * 1-5", "@weekly", "7,37 0,12 1-7 * 1",
                              "0 20 * * 1", "*/7 */5 */3 */2 *", "0 0 1 jan,jul *"]
    static let zones = ["America/Los_Angeles", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "America/St_Johns", "Pacific/Auckland"]

    /// The guard admits exactly the wall-clock minutes the schedule matches.
    @Test func guardAdmitsExactlyTheScheduledMinutes() async {
        let instants = Gen.int64(in: utc("2020-01-01T00:00")...utc("2035-01-01T00:00")).map { $0 / 60 * 60 }
        await propertyCheck(count: 2000, input: oneOf(Self.expressions), instants) { text, instant in
            let parsed = schedule(text)
            let zoneGuard = ZoneGuard(schedule: parsed, zone: losAngeles)
            let local = losAngeles.local(at: instant)
            #expect(zoneGuard.admits(local) == parsed.matches(local), "\(text) at \(local)")
        }
    }

    /// Every fire of a guarded entry lands on one of its host-time lines and passes its guard.
    @Test func guardedLinesCoverEveryFire() async throws {
        let start = renderNow
        let renderable = Self.expressions.filter { $0 != "*/7 */5 */3 */2 *" } + ["*/7 */5 * * *"]
        await propertyCheck(count: 300, input: oneOf(renderable), oneOf(Self.zones),
                            Gen.int64(in: start...(start + 5 * 365 * 86_400))) { text, zoneName, t in
            guard let zone = CronZone(identifier: zoneName),
                  let parsed = try? entry("CRON_TZ=\(zoneName)\n\(text) /opt/bot/x.sh", name: "x"),
                  let rendered = try? parsed.render(for: debianHost, effectiveZone: .utc, now: start),
                  let fire = parsed.schedule.next(after: t, in: zone)
            else { Issue.record("\(text) in \(zoneName) did not render"); return }
            let utcTime = CronZone.utc.local(at: fire)
            let hostLines = rendered.lines.compactMap { line -> Schedule? in
                guard case .job(let fields, _) = CrontabLine(Array(line.utf8)) else { return nil }
                return try? Schedule.parse(fields)
            }
            #expect(hostLines.count == rendered.lines.count)
            #expect(hostLines.contains { $0.matches(utcTime) }, "\(text) in \(zoneName): fire \(utcTime) UTC not on \(rendered.lines)")
            #expect(ZoneGuard(schedule: parsed.schedule, zone: zone).admits(zone.local(at: fire)))
        }
    }
}
