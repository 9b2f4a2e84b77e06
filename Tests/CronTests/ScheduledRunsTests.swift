@testable import BotOpsKit
import Cron
import Foundation
import Remote
import SandboxSupport
import Testing

@Suite struct ScheduledRunsUnitTests {
    @Test func aFireStillWithinTheGraceIsNotJudgedYet() throws {
        let weekly = try entry(weeklyEntryText)
        func judged(_ now: String) -> String? {
            utcText(ScheduledRuns(entries: [weekly], appPath: "/opt/bot", now: utc(now)).judgedFire(weekly, zone: losAngeles))
        }
        #expect(judged("2026-11-23T17:10") == "2026-11-16T17:00")  // ten minutes after: may still run
        #expect(judged("2026-11-23T17:15") == "2026-11-23T17:00")
        #expect(judged("2026-07-07T00:00") == "2026-07-06T16:00")  // summer: 09:00 PDT
    }
}

/// The real files and logs of the sandbox, with the clock injected: a Monday in January 2027.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct ScheduledRunsSandboxTests {
    let sandbox: Sandbox
    static let now = utc("2027-01-04T18:00")       // Monday 10:00 PST
    static let fire = utc("2027-01-04T17:00")      // its 09:00 fire
    static let report = "logs/weekly_review_botops-test.txt"
    static let log = "logs/botops-test-cron.log"

    init() throws {
        sandbox = try Sandbox.require()
    }

    func verdict(_ prepare: String) async throws -> ScheduledRunVerdict {
        let weekly = try entry("""
            CRON_TZ=America/Los_Angeles
            0 9 * * 1 /opt/bot/weekly_strategy_review.sh >> \(sandbox.app)/\(Self.log) 2>&1
            # botops: expects logs/weekly_review_*.txt
            """)
        let lock = try await SandboxLock.acquire()
        defer { lock.release() }
        let connection = try await SSHConnection.connect(to: try sandbox.target())
        return try await connection.closing {
            let app = shellQuote(sandbox.app)
            let cleanup = "cd \(app) && rm -f \(shellQuote(Self.report)) \(shellQuote(Self.log))"
            let prepared = try await connection.run("\(cleanup) && \(prepare)")
            #expect(prepared.succeeded, "\(prepared.stderrText)")
            let verdicts = await ScheduledRuns(entries: [weekly], appPath: sandbox.app, now: Self.now).check(on: connection, hostZone: .utc)
            _ = try await connection.run(cleanup)
            return try #require(verdicts.first)
        }
    }

    @Test func aFireThatProducedNoReportWarnsNamingTheMissedFire() async throws {
        // Every real report is older than the injected fire: as if the Monday report was removed.
        let missed = try await verdict("true")
        #expect(missed.status == .warn)
        #expect(missed.lastFire == Self.fire)
        #expect(missed.message == "missed: nothing matching logs/weekly_review_*.txt was written since the fire at 2027-01-04 09:00 America/Los_Angeles (2027-01-04 17:00 UTC): the scheduled run did not happen or failed; see \(sandbox.app)/\(Self.log)")
    }

    @Test func aReportWrittenAfterTheFirePasses() async throws {
        let written = try await verdict("echo review > \(shellQuote(Self.report)) && touch -d @\(Self.fire + 75) \(shellQuote(Self.report))")
        #expect(written.status == .pass, "\(written.message)")
        #expect(written.output == "\(sandbox.app)/\(Self.report)")
        // Written before the fire: does not count.
        let stale = try await verdict("echo review > \(shellQuote(Self.report)) && touch -d @\(Self.fire - 60) \(shellQuote(Self.report))")
        #expect(stale.status == .warn)
    }

    @Test func anErrorInTheCronLogWarns() async throws {
        let failing = try await verdict("""
            echo review > \(shellQuote(Self.report)) && touch -d @\(Self.fire + 75) \(shellQuote(Self.report)) && \
            printf 'Generating weekly review\\npsql: error: connection to server failed\\n' > \(shellQuote(Self.log)) && touch -d @\(Self.fire + 80) \(shellQuote(Self.log))
            """)
        #expect(failing.status == .warn)
        #expect(failing.logError == "psql: error: connection to server failed")
    }
}
