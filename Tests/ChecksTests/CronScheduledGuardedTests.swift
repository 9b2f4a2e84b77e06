@testable import Checks
import Foundation
import Testing

/// cron-scheduled recognises the DST-safe form `botops cron install` writes on a host whose cron
/// ignores CRON_TZ, and tells its next run in the entry's zone.
@Suite struct CronScheduledGuardedTests {
    static let guarded = #"0 16,17 * * * case $(TZ=America/Los_Angeles date +\%H:\%M/\%w/\%m/\%d) in 09:00/1/*) ;; *) exit 0;; esac; /opt/bot/weekly_strategy_review.sh >> /opt/bot/logs/weekly_review_cron.log 2>&1"#

    func verdict(now: String, lines: [String]) -> Verdict {
        var facts = Fixture.host
        facts.crontab = .listed(["# BEGIN botops weekly-strategy-review (managed by botops)"] + lines + ["# END botops weekly-strategy-review"])
        facts.now = Int(ISO8601DateFormatter().date(from: now)?.timeIntervalSince1970 ?? 0)
        return CronScheduledCheck().evaluate(facts, settings: Fixture.settings)
    }

    @Test func nextRunIsMonday0900LosAngelesInWinterAndSummer() {
        let winter = verdict(now: "2026-11-24T12:00:00Z", lines: [Self.guarded])
        #expect(winter.status == .pass, "\(winter.message)")
        #expect(winter.message.hasPrefix("next run 2026-11-30 09:00 America/Los_Angeles"))
        #expect(winter.evidence.contains(Evidence("next_run", "2026-11-30 09:00 America/Los_Angeles")))
        // Not the candidate hour 16:00 UTC of Tuesday: the guard refuses every other day and hour.
        let summer = verdict(now: "2026-07-01T00:00:00Z", lines: [Self.guarded])
        #expect(summer.message.hasPrefix("next run 2026-07-06 09:00 America/Los_Angeles"))
    }

    @Test func aCommentedOutGuardedLineStillFails() {
        let commented = verdict(now: "2026-11-24T12:00:00Z", lines: ["# " + Self.guarded])
        #expect(commented.status == .fail)
    }
}
