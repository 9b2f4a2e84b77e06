@testable import BotOpsKit
import Foundation
import HostCommands
import Remote
import SandboxSupport
import Testing

/// Stopping an interrupted step's commands on the host, with local processes (parallel-safe).
struct StepStopTests {
    func local(_ command: String) async throws -> CommandResult {
        try await LocalHost().run(command)
    }

    /// A command of the step that ended long ago may have its pid reused by any process; the stop
    /// signals only what is still the step's own (same start time). That the step's own commands
    /// are stopped: `interruptedDuringBuildTheBuildIsStoppedOnTheHost` and the CLI's Ctrl-C tests.
    @Test func stopSignalsOnlyTheStepsOwnProcesses() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("steprunner-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let runner = StepRunner(inner: LocalHost(), state: StateDirectory(path: dir))
        runner.enter(stoppable: true, label: "build")
        _ = try await runner.run(RemoteCommand("true", timeout: .seconds(30)))
        // A process started later than the ended command (its start time is counted in 10 ms
        // ticks: one started in the same tick would pass for the command itself).
        try await Task.sleep(for: .milliseconds(50))
        // An unrelated process now has the pid the ended command had.
        let stranger = try await local("sleep 300 > /dev/null 2>&1 & echo $!").stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try await local("sed -i 's/^[0-9]*/\(stranger)/' \(dir)/run-*.pgids")
        let stop = try #require(runner.stopCommand(grace: .seconds(2)))
        _ = try await LocalHost().run(stop)
        let strangerAlive = try await local("kill -0 \(stranger)").succeeded
        _ = try? await local("kill -KILL \(stranger)")
        #expect(strangerAlive, "the stop signalled a process that is not the step's")
    }

    /// A botops killed (or cut off) mid-deploy never removes its records of process groups: the
    /// next run's cleanup (under the deploy lock) removes them once none of their groups is left,
    /// and keeps those of a command still running and every file that is not such a record.
    @Test func cleanupRemovesEarlierRunsRecordsWhoseCommandsEnded() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("steprunner-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let state = StateDirectory(path: dir)
        let killed = StepRunner(inner: LocalHost(), state: state)
        killed.enter(stoppable: true, label: "build")
        _ = try await killed.run(RemoteCommand("true", timeout: .seconds(30)))
        let still = StepRunner(inner: LocalHost(), state: state)
        still.enter(stoppable: true, label: "build")
        let running = Task { try await still.run(RemoteCommand("sleep 307", timeout: .seconds(120))) }
        defer { running.cancel() }
        let stillFile = "\(dir)/run-\(still.token)-0.pgids"
        for _ in 0..<400 where !FileManager.default.fileExists(atPath: stillFile) { try await Task.sleep(for: .milliseconds(25)) }
        let current = StepRunner(inner: LocalHost(), state: state)
        current.enter(stoppable: true, label: "build")
        _ = try await current.run(RemoteCommand("true", timeout: .seconds(30)))
        FileManager.default.createFile(atPath: "\(dir)/run-notes.txt", contents: nil)

        _ = try await LocalHost().run(current.cleanupCommand())
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(left == ["run-\(still.token)-0.pgids", "run-notes.txt"].sorted(), "\(left)")
    }

    /// A botops killed mid-build leaves its build running on the host: the next run (under the
    /// deploy lock, having found the interrupted holder) stops it, and leaves its own alone.
    @Test func theNextRunStopsWhatAKilledRunsStoppableStepLeftRunning() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("steprunner-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let state = StateDirectory(path: dir)
        func startBuild(_ runner: StepRunner, _ name: String) async throws -> (Task<RemoteCommandResult, Error>, Int32) {
            runner.enter(stoppable: true, label: "build")
            let pidFile = "\(dir)/\(name).pid"
            let task = Task { try await runner.run(RemoteCommand("sleep 311 & echo $! > \(shellQuote(pidFile)); wait", timeout: .seconds(120))) }
            return (task, try await InterruptLocalTests.pid(in: pidFile))
        }
        let (killedBuild, orphan) = try await startBuild(StepRunner(inner: LocalHost(), state: state), "killed")
        let current = StepRunner(inner: LocalHost(), state: state)
        let (ownBuild, own) = try await startBuild(current, "own")
        defer { ownBuild.cancel() }

        _ = try await LocalHost().run(current.orphansStopCommand(grace: .seconds(2)))
        #expect(try await killedBuild.value.result.termination == .signaled("TERM"))
        try await InterruptLocalTests.expectGone(orphan, "the killed run's build")
        #expect(InterruptLocalTests.isRunning(own), "the run's own build was stopped")
    }
}
