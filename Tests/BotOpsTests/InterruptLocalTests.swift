@testable import BotOpsKit
import Foundation
import HostCommands
import Remote
import SandboxSupport
import Testing

/// `--local`: the deploy's commands run on this machine, each in a process group of its own, so
/// an interruption stops a step and everything it started, as over ssh (parallel-safe).
struct InterruptLocalTests {
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let state = stat.split(separator: ")").last?.split(separator: " ").first else { return false }
        return state != "Z"
    }

    /// Reads `path` until it holds a pid (bounded).
    static func pid(in path: String) async throws -> Int32 {
        for _ in 0..<400 {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) { return pid }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw TestFailure("no pid in \(path)")
    }

    /// Loose bound (≤ 5 s): the process must really be gone.
    static func expectGone(_ pid: Int32, _ what: String) async throws {
        for _ in 0..<100 where isRunning(pid) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!isRunning(pid), "\(what) (pid \(pid)) still runs")
    }

    /// A cancelled command (the lifecycle cancels a body that does not stop by itself) is
    /// stopped with what it started, instead of running on after botops.
    @Test func cancellingALocalCommandStopsItAndWhatItStarted() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pidFile = directory.appendingPathComponent("pid").path
        let task = Task { try await LocalHost().run("sleep 239 & echo $! > \(shellQuote(pidFile)); wait", timeout: .seconds(120)) }
        let pid = try await Self.pid(in: pidFile)
        task.cancel()
        let result = try await task.value
        #expect(result.termination != .exited(0), "\(result.termination)")
        try await Self.expectGone(pid, "the cancelled command's child")
    }

    /// The interrupted build of a `--local` deploy: its process group was recorded, and the stop
    /// ends it and what it started.
    @Test func theStopOfALocalStepEndsItsProcessGroup() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pidFile = directory.appendingPathComponent("pid").path
        let runner = StepRunner(inner: LocalHost(), state: StateDirectory(path: directory.path))
        runner.enter(stoppable: true, label: "build")
        let build = Task { try await runner.run(RemoteCommand("sleep 241 & echo $! > \(shellQuote(pidFile)); wait", timeout: .seconds(120))) }
        let pid = try await Self.pid(in: pidFile)
        let stop = try #require(runner.stopCommand(grace: .seconds(2)))
        _ = try await LocalHost().run(stop)
        #expect(try await build.value.result.termination == .signaled("TERM"))
        try await Self.expectGone(pid, "the build's child")
    }
}
