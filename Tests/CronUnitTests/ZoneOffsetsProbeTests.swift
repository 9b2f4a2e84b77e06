@testable import BotOpsKit
import Cron
import Foundation
import HostCommands
import Remote
import Testing

/// cron's guard against a host whose tz database differs from botops': the host's offsets of a
/// zone read by the one probe (this machine's real /bin/sh, date and tzdata), and CronHost's
/// refusals judged from given facts.
@Suite struct ZoneOffsetsProbeTests {
    let newYork = CronZone(identifier: "America/New_York")!
    /// 2026-05-28, so the checked instants span two years of New York's transitions.
    let now: Int64 = 1_780_000_000

    func result(_ stdout: String, status: Int32 = 0, stderr: String = "") -> CommandResult {
        CommandResult(termination: .exited(status), stdout: Array(stdout.utf8), stderr: Array(stderr.utf8))
    }

    @Test func thisMachinesOffsetsOfNewYorkAreBotopsOwnAcrossItsTransitions() async throws {
        let instants = CronHost.checkedInstants(newYork, now: now)
        #expect(instants.count == 9, "now and an hour either side of four transitions")
        let fact = try await ZoneOffsetsProbe.probe(newYork, at: instants).run(on: LocalHost())
        #expect(fact == .offsets(instants.map { newYork.offset(at: $0) }))
        #expect(Set(instants.map { newYork.offset(at: $0) }) == [-4 * 3600, -5 * 3600])
        #expect(CronHost.disagreement(newYork, at: instants, host: fact) == nil)
        try await CronHost(runner: LocalHost(), state: StateDirectory(path: "/nonexistent")).checkZonesAgree([newYork, .utc], now: now)
    }

    @Test func aZoneTheHostLacksIsRefused() throws {
        let fact = try ZoneOffsetsProbe.parse(result("missing\n"), count: 3)
        #expect(fact == .missing)
        let refusal = try #require(CronHost.disagreement(newYork, at: [now], host: fact))
        #expect(refusal.description.contains("the host has no /usr/share/zoneinfo/America/New_York"), "\(refusal)")
        #expect(refusal.description.contains("update the tzdata package"))
    }

    @Test func offsetsThatDifferAreRefusedNamingBoth() throws {
        let instants: [Int64] = [now, now + 1]
        let fact = try ZoneOffsetsProbe.parse(result("-0500\n-0430\n"), count: 2)
        #expect(fact == .offsets([-5 * 3600, -(4 * 3600 + 30 * 60)]))
        let refusal = try #require(CronHost.disagreement(newYork, at: instants, host: fact))
        #expect(refusal == .zoneMismatch(zone: "America/New_York", detail: #"offsets ["-0500", "-0430"] on the host, ["-0400", "-0400"] expected"#))
    }

    /// A date that cannot answer (busybox without `-d @`, say) or answers in another shape is
    /// unreadable, never taken as UTC.
    @Test func aDateThatCannotAnswerIsUnreadable() {
        #expect(throws: UnreadableOutput.self) { try ZoneOffsetsProbe.parse(result("", status: 1, stderr: "date: invalid date '@1'"), count: 1) }
        #expect(throws: UnreadableOutput.self) { try ZoneOffsetsProbe.parse(result("EST\n"), count: 1) }
        #expect(throws: UnreadableOutput.self) { try ZoneOffsetsProbe.parse(result("+0000\n"), count: 2) }
        #expect(throws: UnreadableOutput.self) { try ZoneOffsetsProbe.parse(result("+-100\n"), count: 1) }
        #expect(ZoneOffsetsProbe.text(-(3 * 3600 + 30 * 60)) == "-0330")
        #expect(ZoneOffsetsProbe.text(5 * 3600 + 45 * 60) == "+0545")
    }
}
