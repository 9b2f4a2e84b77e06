@testable import BotOpsKit
import Checks
import Cron
import Foundation
import Remote
import SandboxSupport
import Testing

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
            let verdicts = await ScheduledRuns(entries: [weekly], appPath: sandbox.app, now: Self.now).check(on: connection)
            _ = try await connection.run(cleanup)
            return try #require(verdicts.first)
        }
    }

    @Test func aFireThatLeftNoLogWarnsNamingTheMissedFire() async throws {
        // Every real report and log is older than the injected fire: as if cron never ran the line.
        let missed = try await verdict("true")
        #expect(missed.status == .warn)
        #expect(missed.lastFire == Self.fire)
        #expect(missed.message == "missed: \(sandbox.app)/\(Self.log) was not written since the fire at 2027-01-04 09:00 America/Los_Angeles (2027-01-04 17:00 UTC): the scheduled run did not happen")
    }

    /// Item 17: the fire failed (cron did not run the line: its log untouched), then the script was
    /// run by hand (verify's report-generation, a deploy's checks) and wrote a report after the
    /// fire. The report used to pass for the scheduled run; the log says it never happened.
    @Test func aFailedFireThenAManualRunStillWarns() async throws {
        let manual = try await verdict("""
            printf 'Report written\\n' > \(shellQuote(Self.log)) && touch -d @\(Self.fire - 7 * 86_400 + 60) \(shellQuote(Self.log)) && \
            echo review > \(shellQuote(Self.report)) && touch -d @\(Self.fire + 1800) \(shellQuote(Self.report))
            """)
        #expect(manual.status == .warn)
        #expect(manual.message.hasPrefix("missed: \(sandbox.app)/\(Self.log) was not written since the fire"), "\(manual.message)")
        #expect(manual.message.contains("was written since, but not by the scheduled run"))
        // A fire that ran and failed: its log says so, whatever a later manual run wrote.
        let failed = try await verdict("""
            printf 'psql: error: connection to server failed\\n' > \(shellQuote(Self.log)) && touch -d @\(Self.fire + 5) \(shellQuote(Self.log)) && \
            echo review > \(shellQuote(Self.report)) && touch -d @\(Self.fire + 1800) \(shellQuote(Self.report))
            """)
        #expect(failed.status == .warn)
        #expect(failed.logError == "psql: error: connection to server failed")
    }

    @Test func aFireWhoseLogAndReportWereWrittenPasses() async throws {
        let ran = try await verdict("""
            printf 'Report written\\n' > \(shellQuote(Self.log)) && touch -d @\(Self.fire + 80) \(shellQuote(Self.log)) && \
            echo review > \(shellQuote(Self.report)) && touch -d @\(Self.fire + 75) \(shellQuote(Self.report))
            """)
        #expect(ran.status == .pass, "\(ran.message)")
        #expect(ran.output == "\(sandbox.app)/\(Self.report)")
        // The run happened but wrote no report since the fire: warned, naming the log.
        let noReport = try await verdict("printf 'Report written\\n' > \(shellQuote(Self.log)) && touch -d @\(Self.fire + 80) \(shellQuote(Self.log))")
        #expect(noReport.status == .warn)
        #expect(noReport.message.contains("ran (\(sandbox.app)/\(Self.log) written) but nothing matching"), "\(noReport.message)")
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
