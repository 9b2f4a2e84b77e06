@testable import Cron
import Testing

@Suite struct BlackoutTests {
    @Test func windowAroundTheMondayReviewInWinterAndSummer() throws {
        let weekly = try entry(weeklyEntryText)
        // Winter: 09:00 PST = 17:00 UTC; the window is 08:50-09:10 Los Angeles time.
        let inside = try #require(weekly.blackout(at: utc("2026-11-30T16:55"), hostZone: .utc))
        #expect(inside.fire == utc("2026-11-30T17:00"))
        #expect(inside.start == utc("2026-11-30T16:50"))
        #expect(inside.end == utc("2026-11-30T17:10"))
        #expect(inside.description == "weekly-strategy-review fires at 2026-11-30 09:00 America/Los_Angeles (2026-11-30 17:00 UTC); clear at 2026-11-30 09:10 America/Los_Angeles (2026-11-30 17:10 UTC)")
        #expect(weekly.blackout(at: utc("2026-11-30T17:10"), hostZone: .utc) != nil)
        #expect(weekly.blackout(at: utc("2026-11-30T17:10:01"), hostZone: .utc) == nil)
        #expect(weekly.blackout(at: utc("2026-11-30T16:49:59"), hostZone: .utc) == nil)
        // Summer: 09:00 PDT = 16:00 UTC, so 16:55 UTC is clear and 16:05 is not.
        #expect(weekly.blackout(at: utc("2026-07-06T16:55"), hostZone: .utc) == nil)
        #expect(weekly.blackout(at: utc("2026-07-06T16:05"), hostZone: .utc)?.fire == utc("2026-07-06T16:00"))
        // Tuesday: clear.
        #expect(weekly.blackout(at: utc("2026-12-01T17:00"), hostZone: .utc) == nil)
    }

    @Test func closeFiresChainIntoOneWindow() throws {
        let frequent = try entry("*/5 * * * * /usr/bin/x\n# botops: blackout 10m", name: "frequent")
        let window = try #require(frequent.blackout(at: utc("2026-01-01T00:02"), hostZone: .utc))
        // Never clear: every window overlaps the next; the search stops a week ahead.
        #expect(window.end >= utc("2026-01-08T00:00"))
    }

    @Test func entriesWithoutBlackoutNeverBlock() throws {
        let report = try entry("0 */6 * * * /opt/bot/scripts/run_daily_report.sh", name: "report")
        #expect(activeBlackout([report], at: utc("2026-01-01T06:00"), hostZone: .utc) == nil)
        #expect(activeBlackout([report, try entry(weeklyEntryText)], at: utc("2026-11-30T17:00"), hostZone: .utc)?.entry == "weekly-strategy-review")
    }
}

@Suite struct UnifiedDiffTests {
    func lines(_ text: String) -> [[UInt8]] { Crontab(text: text).lines }

    @Test func matchesDiffU() {
        let old = lines("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n")
        let new = lines("a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\n")
        #expect(unifiedDiff(old, new, fromLabel: "old", toLabel: "new") == """
            --- old
            +++ new
            @@ -1,10 +1,11 @@
             a
             b
             c
            -d
            +D
             e
             f
             g
            -h
            -i
            -j
            +h
            +i
            +j
            +k

            """.replacingOccurrences(of: "-h\n-i\n-j\n+h\n+i\n+j\n", with: " h\n i\n j\n"))
        #expect(unifiedDiff(old, old, fromLabel: "old", toLabel: "new") == "")
        #expect(unifiedDiff([], lines("x\n"), fromLabel: "old", toLabel: "new") == "--- old\n+++ new\n@@ -0,0 +1 @@\n+x\n")
    }
}
