@testable import Cron
import PropertyBased
import Testing

@Suite struct ScheduleParsingTests {
    @Test func fieldsWithRangesStepsListsAndNames() throws {
        let parsed = schedule("*/15 8-10,14 1,15 JAN-MAR,jul mon-fri")
        #expect(parsed.minute.values == [0, 15, 30, 45])
        #expect(parsed.hour.values == [8, 9, 10, 14])
        #expect(parsed.dayOfMonth.values == [1, 15])
        #expect(parsed.month.values == [1, 2, 3, 7])
        #expect(parsed.dayOfWeek.values == [1, 2, 3, 4, 5])
        #expect(schedule("0 0 * * 7").dayOfWeek.values == [0])
        #expect(schedule("0 0 * * 5-7").dayOfWeek.values == [0, 5, 6])
        #expect(schedule("0-30/10 * * * *").minute.values == [0, 10, 20, 30])
    }

    @Test func keywordsExpandToTheirFields() {
        let expansions = ["@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
                          "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"]
        for (keyword, fields) in expansions {
            let parsed = schedule(keyword)
            let expanded = schedule(fields)
            #expect(parsed.text == keyword)
            #expect([parsed.minute, parsed.hour, parsed.dayOfMonth, parsed.month, parsed.dayOfWeek]
                    == [expanded.minute, expanded.hour, expanded.dayOfMonth, expanded.month, expanded.dayOfWeek], "\(keyword)")
        }
        #expect(schedule("@reboot").isReboot)
        #expect(schedule("@reboot").next(after: 0, in: utcZone) == nil)
    }

    @Test(arguments: [
        ("60 * * * *", "field 'minute' value '60': 60 is out of range; allowed 0-59"),
        ("0 24 * * *", "field 'hour' value '24': 24 is out of range; allowed 0-23"),
        ("0 0 0 * *", "field 'day of month' value '0': 0 is out of range; allowed 1-31"),
        ("0 0 * 13 *", "field 'month' value '13': 13 is out of range; allowed 1-12 or JAN-DEC"),
        ("0 0 * * 8", "field 'day of week' value '8': 8 is out of range; allowed 0-7 (0 and 7 are Sunday) or SUN-SAT"),
        ("0 0 * * MOO", "field 'day of week' value 'MOO': 'MOO' is neither a number nor a name; allowed 0-7 (0 and 7 are Sunday) or SUN-SAT"),
        ("0 5-1 * * *", "field 'hour' value '5-1': range 5-1 runs backwards; allowed 0-23"),
        ("*/0 * * * *", "field 'minute' value '*/0': step '0' must be a number from 1 to 59; allowed 0-59"),
        ("5/15 * * * *", "field 'minute' value '5/15': a step needs a range or '*': write 5-59/15 or */15; allowed 0-59"),
        ("1,,2 * * * *", "field 'minute' value '1,,2': empty list item; allowed 0-59"),
        ("0 9 * *", "a schedule has five fields (minute hour day-of-month month day-of-week) or is one @keyword; found 4 fields"),
        ("@fortnightly", "unknown '@fortnightly'; expected @hourly, @daily, @weekly, @monthly, @yearly or @reboot"),
        ("0 0 30 2 *", "field 'day of month' value '30': no month of '2' has such a day, so this schedule never fires"),
        ("0 0 31 4,6,9,11 *", "field 'day of month' value '31': no month of '4,6,9,11' has such a day, so this schedule never fires"),
        ("99999999999999999999 * * * *", "field 'minute' value '99999999999999999999': '99999999999999999999' is not a number; allowed 0-59"),
    ])
    func invalidSchedulesNameFieldValueAndRange(text: String, message: String) {
        #expect(throws: (any Error).self) { try Schedule.parse(text) }
        do {
            _ = try Schedule.parse(text)
        } catch {
            #expect("\(error)" == message)
        }
    }

    @Test func thirtiethOfFebruaryIsFineWhenAWeekdayCanMatch() {
        // Both day fields restricted: either matches, so the Mondays of February still fire.
        #expect(schedule("0 0 30 2 1").next(after: utc("2026-01-01T00:00"), in: utcZone) == utc("2026-02-02T00:00"))
    }

    @Test func randomTextNeverCrashesTheParser() async {
        let characters = oneOf(Array("0123456789*/,-@ \tMONJAFEBSUTWDHRxyz#=%\u{0}é"))
        await propertyCheck(count: 3000, input: characters.string(of: 0...40)) { text in
            if let parsed = try? Schedule.parse(text), !parsed.isReboot {
                // Whatever parses must fire.
                #expect(parsed.next(after: utc("2026-01-01T00:00"), in: utcZone) != nil, "\(text)")
            }
        }
    }
}
