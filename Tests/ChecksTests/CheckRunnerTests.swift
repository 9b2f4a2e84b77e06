@testable import Checks
import Foundation
import HostCommands
import Remote
import Testing

/// A check of our own protocol whose verdict and duration the test sets.
struct ScriptedCheck: Check {
    let id: CheckID
    var title: String { id.rawValue }
    let prerequisites: [CheckID]
    let verdict: Verdict
    var delay: Duration = .zero
    var log: EventLog?

    func run(in context: CheckContext) async throws -> Verdict {
        log?.record("start \(id.rawValue)")
        try await Task.sleep(for: delay)
        log?.record("end \(id.rawValue)")
        return verdict
    }

    func commands(in probes: CheckProbes) -> [RemoteCommand] { [] }
}

final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [String] = []
    func record(_ event: String) { lock.withLock { recorded.append(event) } }
    var events: [String] { lock.withLock { recorded } }
}

@Suite struct CheckRunnerTests {
    let context = CheckContext(host: LocalHost(), settings: Fixture.settings)

    @Test func dependentsWaitAndSkipWhenAPrerequisiteFails() async throws {
        let log = EventLog()
        let checks: [any Check] = [
            ScriptedCheck(id: .dbRunning, prerequisites: [], verdict: .fail("broken"), delay: .milliseconds(50), log: log),
            ScriptedCheck(id: .reportGeneration, prerequisites: [.dbRunning], verdict: .pass("fine"), log: log),
            ScriptedCheck(id: .reportFile, prerequisites: [.reportGeneration], verdict: .pass("fine"), log: log),
            ScriptedCheck(id: .scriptExecutable, prerequisites: [], verdict: .warn("meh"), log: log),
            ScriptedCheck(id: .queriesPresent, prerequisites: [.scriptExecutable], verdict: .pass("fine"), log: log),
        ]
        let report = try await CheckRunner(from: checks).run(in: context)
        #expect(report.results.map(\.id) == [.dbRunning, .reportGeneration, .reportFile, .scriptExecutable, .queriesPresent])
        #expect(report.results.map(\.status) == [.fail, .skip, .skip, .warn, .pass])
        #expect(report.results[1].message == "skipped: db-running failed")
        #expect(report.results[2].message == "skipped: report-generation was skipped")
        #expect(!log.events.contains("start report-generation"))
        // queries-present ran after script-executable ended: a warning lets dependents run.
        let events = log.events
        #expect(try #require(events.firstIndex(of: "end script-executable")) < #require(events.firstIndex(of: "start queries-present")))
    }

    @Test func independentChecksRunConcurrently() async throws {
        let log = EventLog()
        let checks: [any Check] = CheckID.allCases.prefix(5).map { ScriptedCheck(id: $0, prerequisites: [], verdict: .pass("ok"), delay: .milliseconds(200), log: log) }
        let report = try await CheckRunner(from: checks).run(in: context)
        #expect(report.results.allSatisfy { $0.status == .pass })
        // All five had started before the first one finished.
        #expect(log.events.prefix(5).allSatisfy { $0.hasPrefix("start") })
    }

    @Test func onlyBringsPrerequisitesAndSkipReports() throws {
        let runner = try CheckRunner(only: [.reportFile], skip: [])
        #expect(runner.checks.map(\.id) == [.scriptExecutable, .dbRunning, .reportGeneration, .reportFile])
        let skipping = try CheckRunner(skip: [.dbRunning])
        #expect(skipping.checks.count == 9)
        #expect(skipping.skipped == [.dbRunning])
        #expect(throws: CheckSelectionError.self) { try CheckID.list("cron-scheduled, nope") }
        #expect(try CheckID.list(" db-running,,report-file ") == [.dbRunning, .reportFile])
    }

    @Test func skippedPrerequisiteSkipsDependents() async throws {
        let checks: [any Check] = [
            ScriptedCheck(id: .cronScheduled, prerequisites: [], verdict: .pass("ok")),
            ScriptedCheck(id: .dbRunning, prerequisites: [], verdict: .pass("ok")),
            ScriptedCheck(id: .dbConnectivity, prerequisites: [.dbRunning], verdict: .pass("ok")),
        ]
        let report = try await CheckRunner(skip: [.dbRunning], from: checks).run(in: context)
        #expect(report.results.map(\.status) == [.pass, .skip, .skip])
        #expect(report.results[1].message == "skipped by --skip")
    }

    @Test func everyCheckIDHasOneCheckInRunbookOrder() {
        #expect(allChecks.map(\.id) == CheckID.allCases)
        for check in allChecks {
            #expect(check.prerequisites.allSatisfy { CheckID.allCases.firstIndex(of: $0)! < CheckID.allCases.firstIndex(of: check.id)! })
        }
    }

    /// A check whose prerequisite is not among the checks given is reported, never dropped.
    @Test func checkWithAMissingPrerequisiteIsReportedSkipped() async throws {
        let checks: [any Check] = [
            ScriptedCheck(id: .cronScheduled, prerequisites: [], verdict: .pass("ok")),
            ScriptedCheck(id: .reportFile, prerequisites: [.reportGeneration], verdict: .pass("ok")),
        ]
        let report = try await CheckRunner(from: checks).run(in: context)
        #expect(report.results.map(\.id) == [.cronScheduled, .reportFile])
        #expect(report.results[1].status == .skip)
        #expect(report.results[1].message.contains("prerequisite"))
    }

    /// Skipping every selected check (directly or through a prerequisite) used to run nothing and
    /// exit 0: a green verify that verified nothing.
    @Test func aSelectionWhollySkippedIsRefused() throws {
        let error = #expect(throws: CheckSelectionError.self) { try CheckRunner(skip: CheckID.allCases) }
        #expect(error?.description.contains("--skip leaves nothing to run") == true)
        #expect(throws: CheckSelectionError.self) { try CheckRunner(only: [.snapshotActive], skip: [.dbRunning]) }
        #expect(try CheckRunner(skip: Array(CheckID.allCases.dropFirst())).checks.count == 9)
    }
}
