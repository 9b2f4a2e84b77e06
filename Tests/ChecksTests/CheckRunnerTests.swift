@testable import Checks
import Foundation
import Remote
import Testing

/// A check of our own protocol whose verdict and duration the test sets.
struct ScriptedCheck: Check {
    let id: String
    var title: String { id }
    let prerequisites: [String]
    let verdict: Verdict
    var delay: Duration = .zero
    var log: EventLog?

    func run(in context: CheckContext) async throws -> Verdict {
        log?.record("start \(id)")
        try await Task.sleep(for: delay)
        log?.record("end \(id)")
        return verdict
    }
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
            ScriptedCheck(id: "a", prerequisites: [], verdict: .fail("broken"), delay: .milliseconds(50), log: log),
            ScriptedCheck(id: "b", prerequisites: ["a"], verdict: .pass("fine"), log: log),
            ScriptedCheck(id: "c", prerequisites: ["b"], verdict: .pass("fine"), log: log),
            ScriptedCheck(id: "d", prerequisites: [], verdict: .warn("meh"), log: log),
            ScriptedCheck(id: "e", prerequisites: ["d"], verdict: .pass("fine"), log: log),
        ]
        let report = try await CheckRunner(from: checks).run(in: context)
        #expect(report.results.map(\.id) == ["a", "b", "c", "d", "e"])
        #expect(report.results.map(\.status) == [.fail, .skip, .skip, .warn, .pass])
        #expect(report.results[1].message == "skipped: a failed")
        #expect(report.results[2].message == "skipped: b was skipped")
        #expect(!log.events.contains("start b"))
        // e ran after d ended: a warning lets dependents run.
        let events = log.events
        #expect(try #require(events.firstIndex(of: "end d")) < #require(events.firstIndex(of: "start e")))
    }

    @Test func independentChecksRunConcurrently() async throws {
        let log = EventLog()
        let checks: [any Check] = (0..<5).map { ScriptedCheck(id: "c\($0)", prerequisites: [], verdict: .pass("ok"), delay: .milliseconds(200), log: log) }
        let report = try await CheckRunner(from: checks).run(in: context)
        #expect(report.results.allSatisfy { $0.status == .pass })
        // All five had started before the first one finished.
        #expect(log.events.prefix(5).allSatisfy { $0.hasPrefix("start") })
    }

    @Test func onlyBringsPrerequisitesAndSkipReports() throws {
        let runner = try CheckRunner(only: ["report-file"], skip: [])
        #expect(runner.checks.map(\.id) == ["script-executable", "db-running", "report-generation", "report-file"])
        let skipping = try CheckRunner(skip: ["db-running"])
        #expect(skipping.checks.count == 9)
        #expect(skipping.skipped == ["db-running"])
        #expect(throws: CheckSelectionError.self) { try CheckRunner(only: ["nope"]) }
    }

    @Test func skippedPrerequisiteSkipsDependents() async throws {
        let checks: [any Check] = [
            ScriptedCheck(id: "a", prerequisites: [], verdict: .pass("ok")),
            ScriptedCheck(id: "b", prerequisites: ["a"], verdict: .pass("ok")),
        ]
        let report = try await CheckRunner(skip: ["a"], from: checks).run(in: context)
        #expect(report.results.map(\.status) == [.skip, .skip])
        #expect(report.results[0].message == "skipped by --skip")
    }
}
