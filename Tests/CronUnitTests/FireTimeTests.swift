@testable import Cron
import PropertyBased
import Testing

@Suite struct FireTimeTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let schedule: String
        let zone: String
        let after: String
        let next: String
        var testDescription: String { "\(schedule) in \(zone) after \(after)" }
    }

    /// Known next fire times (UTC). US DST 2026: clocks go forward Sunday 8 March 02:00 → 03:00,
    /// back Sunday 1 November 02:00 → 01:00 in America/Los_Angeles.
    static let table: [Case] = [
        // The weekly review: 09:00 Los Angeles is 17:00 UTC in winter, 16:00 UTC in summer.
        Case(schedule: "0 9 * * 1", zone: "America/Los_Angeles", after: "2026-03-02T17:00", next: "2026-03-09T16:00"),
        Case(schedule: "0 9 * * 1", zone: "America/Los_Angeles", after: "2026-10-26T16:00", next: "2026-11-02T17:00"),
        Case(schedule: "0 9 * * 1", zone: "America/Los_Angeles", after: "2026-11-23T20:00", next: "2026-11-30T17:00"),
        // Spring-forward Sunday: 09:00 exists (PDT); 02:30 does not, so that day is skipped.
        Case(schedule: "0 9 * * 0", zone: "America/Los_Angeles", after: "2026-03-08T00:00", next: "2026-03-08T16:00"),
        Case(schedule: "30 2 * * *", zone: "America/Los_Angeles", after: "2026-03-07T12:00", next: "2026-03-09T09:30"),
        Case(schedule: "0 3 * * *", zone: "America/Los_Angeles", after: "2026-03-08T08:00", next: "2026-03-08T10:00"),
        // Fall-back Sunday: 09:00 is PST again; 01:30 happens twice, PDT then PST.
        Case(schedule: "0 9 * * 0", zone: "America/Los_Angeles", after: "2026-11-01T00:00", next: "2026-11-01T17:00"),
        Case(schedule: "30 1 * * *", zone: "America/Los_Angeles", after: "2026-11-01T07:00", next: "2026-11-01T08:30"),
        Case(schedule: "30 1 * * *", zone: "America/Los_Angeles", after: "2026-11-01T08:30", next: "2026-11-01T09:30"),
        Case(schedule: "30 1 * * *", zone: "America/Los_Angeles", after: "2026-11-01T09:30", next: "2026-11-02T09:30"),
        // Chile changes its clocks at midnight: Saturday 23:30 happens twice, Sunday 00:30 not at all.
        Case(schedule: "30 23 * * 6", zone: "America/Santiago", after: "2026-04-05T02:30", next: "2026-04-05T03:30"),
        Case(schedule: "30 0 * * *", zone: "America/Santiago", after: "2026-09-06T03:00", next: "2026-09-07T03:30"),
        // Local day differs from the UTC day: Monday 20:00 in Los Angeles is Tuesday 04:00 UTC.
        Case(schedule: "0 20 * * 1", zone: "America/Los_Angeles", after: "2026-03-02T00:00", next: "2026-03-03T04:00"),
        // 29 February: the next one is in 2028; a Tuesday 29 February with both day fields
        // restricted fires on every Tuesday too (either field matches).
        Case(schedule: "0 0 29 2 *", zone: "UTC", after: "2026-01-01T00:00", next: "2028-02-29T00:00"),
        Case(schedule: "0 12 29 FEB *", zone: "America/Los_Angeles", after: "2024-02-28T00:00", next: "2024-02-29T20:00"),
        Case(schedule: "0 0 */10 * 1", zone: "UTC", after: "2026-01-01T00:00", next: "2026-05-11T00:00"),
        // */15, lists and ranges.
        Case(schedule: "*/15 * * * *", zone: "UTC", after: "2026-01-01T00:07", next: "2026-01-01T00:15"),
        Case(schedule: "*/15 * * * *", zone: "UTC", after: "2026-01-01T00:15", next: "2026-01-01T00:30"),
        Case(schedule: "*/15 * * * *", zone: "UTC", after: "2026-01-01T00:59:59", next: "2026-01-01T01:00"),
        Case(schedule: "0 8-10,14 * * 1-5", zone: "UTC", after: "2026-01-09T14:00", next: "2026-01-12T08:00"),
        Case(schedule: "0 8-10,14 * * 1-5", zone: "UTC", after: "2026-01-12T10:00", next: "2026-01-12T14:00"),
        // Day of month OR day of week: the 13th or any Friday.
        Case(schedule: "0 0 13 * 5", zone: "UTC", after: "2026-01-02T00:00", next: "2026-01-09T00:00"),
        Case(schedule: "0 0 13 * 5", zone: "UTC", after: "2026-01-09T00:00", next: "2026-01-13T00:00"),
        // The deploy guide's report: every six hours, and daily at 09:00 after its rollback.
        Case(schedule: "0 */6 * * *", zone: "UTC", after: "2026-01-01T05:59", next: "2026-01-01T06:00"),
        Case(schedule: "0 9 * * *", zone: "UTC", after: "2026-01-01T09:00", next: "2026-01-02T09:00"),
        Case(schedule: "@yearly", zone: "UTC", after: "2026-06-01T00:00", next: "2027-01-01T00:00"),
        Case(schedule: "@hourly", zone: "America/Los_Angeles", after: "2026-03-08T09:59", next: "2026-03-08T10:00"),
    ]

    @Test(arguments: table)
    func nextFireTime(_ row: Case) throws {
        let zone = try #require(CronZone(identifier: row.zone))
        let next = schedule(row.schedule).next(after: utc(row.after), in: zone)
        #expect(utcText(next) == row.next)
        // And back again: the fire before the next one is at or before `after`.
        let previous = try #require(schedule(row.schedule).previous(before: utc(row.next), in: zone))
        #expect(previous <= utc(row.after))
    }

    @Test func previousFireTimes() {
        #expect(utcText(schedule("0 9 * * 1").previous(before: utc("2026-11-23T20:00"), in: losAngeles)) == "2026-11-23T17:00")
        #expect(utcText(schedule("0 9 * * 1").previous(before: utc("2026-11-23T17:00"), in: losAngeles)) == "2026-11-16T17:00")
        #expect(utcText(schedule("0 9 * * 1").previous(before: utc("2026-03-10T00:00"), in: losAngeles)) == "2026-03-09T16:00")
        #expect(utcText(schedule("0 0 29 2 *").previous(before: utc("2028-01-01T00:00"), in: utcZone)) == "2024-02-29T00:00")
        #expect(utcText(schedule("30 1 * * *").previous(before: utc("2026-11-01T09:30"), in: losAngeles)) == "2026-11-01T08:30")
    }

    @Test func springForwardGapAndFallBackFoldInstants() {
        #expect(losAngeles.instants(of: LocalTime(year: 2026, month: 3, day: 8, hour: 2, minute: 30)).isEmpty)
        #expect(losAngeles.instants(of: LocalTime(year: 2026, month: 11, day: 1, hour: 1, minute: 30)) == [utc("2026-11-01T08:30"), utc("2026-11-01T09:30")])
        #expect(losAngeles.instants(of: LocalTime(year: 2026, month: 7, day: 6, hour: 9)) == [utc("2026-07-06T16:00")])
    }

    static let expressions = ["0 9 * * 1", "*/15 * * * *", "30 2 * * *", "30 1 * * 0", "0 0 29 2 *", "0 */6 * * *",
                              "5 4 * * sun", "0 0 13 * 5", "0 0 */10 * 1", "59 23 31 12 *", "0 9-17 * * 1-5", "@weekly"]
    static let zones = ["America/Los_Angeles", "UTC", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "America/St_Johns"]

    /// next(previous(t)) brackets t: the fire before t and the one after are adjacent fires.
    @Test func nextOfPreviousBracketsT() async {
        let instants = Gen.int64(in: utc("2000-01-01T00:00")...utc("2040-01-01T00:00"))
        await propertyCheck(count: 400, input: oneOf(Self.expressions), oneOf(Self.zones), instants) { text, zoneName, t in
            guard let zone = CronZone(identifier: zoneName),
                  let previous = schedule(text).previous(before: t, in: zone),
                  let next = schedule(text).next(after: previous, in: zone)
            else { Issue.record("no fire around \(t) for \(text) in \(zoneName)"); return }
            #expect(previous < t)
            #expect(next >= t)
            #expect(schedule(text).fires(at: previous, in: zone))
            #expect(schedule(text).fires(at: next, in: zone))
            #expect(schedule(text).previous(before: next, in: zone) == previous)
        }
    }

    /// No fire is skipped: every minute between t and next(t) that matches would be a fire.
    @Test func nothingFiresBetweenTAndNext() async {
        let instants = Gen.int64(in: utc("2026-03-07T00:00")...utc("2026-03-09T00:00"))
        await propertyCheck(count: 60, input: oneOf(["*/15 * * * *", "30 2 * * *", "0 3 * * *", "0 * * * *", "45 1-3 * * *"]), instants) { text, t in
            guard let next = schedule(text).next(after: t, in: losAngeles) else { Issue.record("never fires"); return }
            var minute = (t / 60 + 1) * 60
            while minute < next {
                #expect(!schedule(text).fires(at: minute, in: losAngeles), "\(text) fires at \(utcText(minute) ?? "") before next \(utcText(next) ?? "")")
                minute += 60
            }
        }
    }
}
