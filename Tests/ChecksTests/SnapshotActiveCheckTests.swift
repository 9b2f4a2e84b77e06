@testable import Checks
import Testing

@Suite struct SnapshotActiveCheckTests {
    @Test func exactlyOnePasses() {
        let verdict = SnapshotActiveCheck().evaluate(Fixture.database(), settings: Fixture.settings)
        #expect(verdict.status == .pass)
        #expect(verdict.message == "snapshot fe59a9ff active since 2026-11-20T19:17:36Z (60m)")
        #expect(verdict.evidence.contains(Evidence("score_buy_target", "2.5")))
    }

    @Test func zeroAndTwoFail() {
        #expect(SnapshotActiveCheck().evaluate(Fixture.database(["snapshots": .success([])]), settings: Fixture.settings).message.contains("no active strategy snapshot"))
        let two = SnapshotActiveCheck().evaluate(Fixture.database(["snapshots": .success([["a", "t", "", "1"], ["b", "t", "", "1"]])]), settings: Fixture.settings)
        #expect(two.status == .fail)
        #expect(two.message.contains("2 snapshots are active at once: a, b"))
    }

    /// The only snapshot with active_until IS NULL starts in the future: nothing is active now,
    /// yet the count alone passed it.
    @Test func theOnlyOpenSnapshotStartingLaterFails() {
        let later = Fixture.database(["snapshots": .success([["fe59a9ff", "2026-11-21T19:17:36Z", "2.5", "-3600"]])])
        let verdict = SnapshotActiveCheck().evaluate(later, settings: Fixture.settings)
        #expect(verdict.status == .fail)
        #expect(verdict.message.contains("starts in 60m"))
    }
}
