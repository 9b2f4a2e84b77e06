@testable import BotOpsKit
import Foundation
import HostCommands
import Remote
import SandboxSupport
import Testing

/// Ctrl-C, SIGTERM and CI's cancel during a deploy on the sandbox host: the step that changes the
/// running service runs to its end, one that changes nothing running is stopped on the host, a
/// stopped service is started again, and the report says what the host is left with.
@Suite(.enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct InterruptTests {
    /// A sighook release whose build sleeps `seconds` (`sleep N` shows on the host while it runs).
    func commitSlowBuild(_ sandbox: DeploySandbox, seconds: Int) async throws {
        let dockerfile = try String(contentsOf: DeploySandbox.repositoryRoot.appendingPathComponent("scripts/sandbox-app/Dockerfile.bot"), encoding: .utf8)
        try await sandbox.commit(on: "main", files: ["Dockerfile.bot": dockerfile + "RUN sleep \(seconds)\n"], message: "sighook: a build of \(seconds) s")
    }

    /// A deployer on `runner` whose events go to `onEvent` too.
    func deployer(_ runner: any CommandRunner, config path: String, onEvent: @escaping @Sendable (DeployEvent) -> Void = { _ in }) throws -> (Deployer, EventLog) {
        let config = try BotOpsConfig.load(path: path)
        let events = EventLog()
        let deployer = Deployer(config: config,
                                deployPlaybook: try config.deploy.loadPlaybook(.deploy, configPath: path),
                                rollbackPlaybook: try config.deploy.loadPlaybook(.rollback, configPath: path),
                                runner: runner) { event in
            events.append(event)
            onEvent(event)
        }
        return (deployer, events)
    }

    /// A deployer that is asked to stop (as the lifecycle asks on the first signal) when `step` starts.
    func deployer(_ sandbox: DeploySandbox, config path: String, interruptAt step: String, signal: Int32 = SIGINT) throws -> (Deployer, EventLog) {
        let config = try BotOpsConfig.load(path: path)
        let events = EventLog()
        let interruption = Interruption()
        let deployer = Deployer(config: config,
                                deployPlaybook: try config.deploy.loadPlaybook(.deploy, configPath: path),
                                rollbackPlaybook: try config.deploy.loadPlaybook(.rollback, configPath: path),
                                runner: sandbox.host, interruption: interruption) { event in
            events.append(event)
            if case .stepStarted(let name, _, _) = event, name == step {
                // A step that changes the running service runs to its end whatever arrives, so the
                // request comes with its start: ordered, not timed. A stoppable step (build) must be
                // running on the host when it comes, so that one waits a moment, as a user's Ctrl-C would.
                let changing = ["checkout", "keep-image", "stop", "up", "restore-image"].contains(step)
                Task {
                    if !changing { try? await Task.sleep(for: .milliseconds(300)) }
                    interruption.request(signal)
                    // GitHub Actions' SIGTERM after the SIGINT: the same request.
                    interruption.request(SIGTERM)
                }
                if changing { interruption.request(signal) }
            }
        }
        return (deployer, events)
    }

    @Test func interruptedDuringStopTheOldContainerIsStartedAgain() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let original = try await sandbox.runningImage("sighook")
            let before = try await sandbox.checkout()
            let target = try await sandbox.commit(on: "main", files: ["VERSION": "2-interrupted\n"], message: "sighook: a release interrupted at stop")
            let (deployer, events) = try deployer(sandbox, config: config, interruptAt: "stop")
            let outcome = try await deployer.deploy(DeployRequest(services: ["sighook"], command: "botops deploy --service sighook"))
            #expect(outcome.result == .interrupted, "\(events.text)")
            #expect(outcome.processExitCode == 130)
            #expect(events.stepNames == ["lock", "preflight", "baseline", "keep-image", "checkout", "build", "stop"], "stop ran to its end, nothing after it")
            #expect(events.notices.contains { $0.contains("started the old container of sighook again") }, "\(events.text)")
            #expect(try await sandbox.sh("docker inspect -f '{{.State.Running}}' sighook") == "true")
            #expect(try await sandbox.runningImage("sighook") == original)
            #expect(try await sandbox.checkout() == ("main", target))
            #expect(outcome.summary.contains("interrupted by SIGINT during step stop"))
            #expect(outcome.summary.contains("sighook runs the old container again"))
            #expect(outcome.advice?.contains("botops rollback --service sighook --to \(before.revision.prefix(12))") == true)
            #expect(JSONEventRenderer().render(.finished(outcome))?.contains("\"exit_code\":130") == true)
            let record = try #require(try await sandbox.audit(last: 1).last)
            #expect(record.result == "interrupted")
            #expect(record.failure == "SIGINT during step stop")
            #expect(try await DeployLock(state: StateDirectory(path: "~/.botops"), staleAfter: .seconds(3600), runner: sandbox.host).status() == .free(interrupted: nil))
        }
    }

    @Test func interruptedDuringUpTheNewContainerRunsUnverified() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let original = try await sandbox.runningImage("sighook")
            let target = try await sandbox.commit(on: "main", files: ["VERSION": "2-up\n"], message: "sighook: a release interrupted at up")
            let (deployer, events) = try deployer(sandbox, config: config, interruptAt: "up", signal: SIGTERM)
            let outcome = try await deployer.deploy(DeployRequest(services: ["sighook"], command: "botops deploy --service sighook"))
            #expect(outcome.result == .interrupted, "\(events.text)")
            #expect(outcome.processExitCode == 143)
            #expect(events.stepNames.last == "up", "up ran to its end; nothing after it")
            #expect(try await sandbox.runningImage("sighook") != original)
            #expect(try await sandbox.checkout() == ("main", target))
            #expect(outcome.summary.contains("sighook runs the new containers, not yet verified"), "\(outcome.summary)")
            let record = try #require(try await sandbox.audit(last: 1).last)
            #expect(record.result == "interrupted" && record.failure == "SIGTERM during step up")
        }
    }

    @Test func interruptedDuringBuildTheBuildIsStoppedOnTheHost() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let original = try await sandbox.runningImage("sighook")
            try await commitSlowBuild(sandbox, seconds: 117)
            let (deployer, events) = try deployer(sandbox, config: config, interruptAt: "build")
            let outcome = try await deployer.deploy(DeployRequest(services: ["sighook"], command: "botops deploy --service sighook"))
            #expect(outcome.result == .interrupted, "\(events.text)")
            let stopped = events.events.contains { event in
                if case .stepFinished("build", .failed, _, let message?) = event { return message.hasPrefix("stopped: interrupted by SIGINT") }
                return false
            }
            #expect(stopped, "the build was stopped on the host, not waited for: \(events.text)")
            #expect(events.stepNames.last == "build")
            #expect(try await sandbox.runningImage("sighook") == original, "the running container was never touched")
            // The build's `sleep` does not outlive the stop's wait: the daemon cancels a build
            // whose client was stopped.
            let left = try await sandbox.sh("for i in $(seq 100); do pgrep -fx 'sleep 117' || exit 0; sleep 0.1; done")
            #expect(left.isEmpty, "still running on the host: \(left)")
        }
    }

    /// botops killed (`kill -9`) during the build: nothing stopped the build on the host. The next
    /// deploy, finding the interrupted holder, stops it before its own steps, so two builds never
    /// run side by side (the old one could tag the image the new one starts).
    @Test func aBuildLeftRunningByAKilledDeployIsStoppedByTheNextOne() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            // Its own duration, so a build left behind by an earlier failed run is not taken for it.
            let seconds = Int.random(in: 400...499)
            try await commitSlowBuild(sandbox, seconds: seconds)
            let killed = try BotopsProcess(["deploy", "--service", "sighook", "--config", config])
            try await sandbox.sh("for i in $(seq 1800); do pgrep -fx 'sleep \(seconds)' >/dev/null && exit 0; sleep 0.1; done; exit 1", timeout: .seconds(200))
            killed.signal(SIGKILL)
            _ = try await killed.exitStatus()
            let orphaned = try await sandbox.sh("pgrep -fx 'sleep \(seconds)' || true")
            #expect(!orphaned.isEmpty, "the build ended with its botops")

            let (next, events) = try deployer(sandbox, config: config, interruptAt: "preflight")
            // Its lock is freed once the host notices the session is gone (a heartbeat): waited for.
            var request = DeployRequest(services: ["sighook"], command: "botops deploy --service sighook --lock-wait 1m")
            request.lockWait = .seconds(60)
            let outcome = try await next.deploy(request)
            #expect(outcome.result == .interrupted, "\(events.text)")
            #expect(events.notices.contains { $0.contains("the previous deploy was interrupted without releasing the lock") }, "\(events.text)")
            let left = try await sandbox.sh("for i in $(seq 100); do pgrep -fx 'sleep \(seconds)' || exit 0; sleep 0.1; done")
            #expect(left.isEmpty, "the killed deploy's build still runs on the host: \(left)")
        }
    }

    @Test func aBrokenLockStopsTheDeployAtTheNextStepBoundary() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let original = try await sandbox.runningImage("sighook")
            try await sandbox.commit(on: "main", files: ["VERSION": "2-broken-lock\n"], message: "sighook: a release whose lock is broken")
            let breaker = DeployLock(state: StateDirectory(path: "~/.botops"), staleAfter: .seconds(3600), runner: sandbox.host)
            let (deployer, events) = try deployer(sandbox.host, config: config) { event in
                if case .stepStarted("build", _, _) = event {
                    // `botops lock release --force` from another machine while the build runs.
                    Task { _ = try? await breaker.forceRelease() }
                }
            }
            let outcome = try await deployer.deploy(DeployRequest(services: ["sighook"], command: "botops deploy --service sighook"))
            #expect(outcome.result == .interrupted, "\(events.text)")
            #expect(outcome.summary.contains("deploy lock was broken"), "\(outcome.summary)")
            #expect(outcome.processExitCode == 1)
            #expect(events.stepNames.last == "build", "no step after the boundary: \(events.stepNames)")
            #expect(try await sandbox.runningImage("sighook") == original)
        }
    }

    @Test func aLostConnectionExitsThreeWithoutARollback() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let original = try await sandbox.runningImage("sighook")
            try await commitSlowBuild(sandbox, seconds: 120)
            let connection = try await SSHConnection.connect(to: try sandbox.sandbox.target())
            // The sshd process serving this connection: killing it drops the connection, as a
            // network failure would.
            let sshd = try await connection.run("echo $PPID").stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            let (deployer, events) = try deployer(connection, config: config) { event in
                if case .stepStarted("build", _, _) = event {
                    Task {
                        try? await Task.sleep(for: .milliseconds(500))
                        _ = try? await sandbox.host.run("kill -KILL \(sshd)")
                    }
                }
            }
            let outcome = try await deployer.deploy(DeployRequest(services: ["sighook"], command: "botops deploy --service sighook"))
            await connection.close()
            // The build's client lost its session too; the holder ends at its next heartbeat.
            _ = try? await sandbox.host.run("pkill -f '[d]ocker-compose.* build'; true")
            let lock = DeployLock(state: StateDirectory(path: "~/.botops"), staleAfter: .seconds(3600), runner: sandbox.host)
            for _ in 0..<50 {
                if case .free = try await lock.status() { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(outcome.exitCode == .unreachable, "\(events.text)")
            #expect(outcome.summary.contains("lost the connection to the host during step build"), "\(outcome.summary)")
            #expect(outcome.summary.contains("No rollback was attempted"))
            #expect(outcome.advice?.contains("botops rollback --service sighook --to ") == true)
            #expect(!events.stepNames.contains { $0.hasPrefix("rollback") }, "\(events.stepNames)")
            #expect(try await sandbox.runningImage("sighook") == original)
        }
    }

    /// `--lock-wait` must not carry a deploy into a blackout window: judged again with the lock
    /// held, here at an injected time inside a Monday 09:00 entry's window.
    @Test func theBlackoutWindowIsJudgedAgainOnceTheLockIsHeld() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let before = try await sandbox.checkout()
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            try "0 9 * * 1 /opt/bot/weekly_strategy_review.sh\n# botops: blackout 10m\n".write(to: directory.appendingPathComponent("weekly.cron"), atomically: true, encoding: .utf8)
            let entries = try CronEntries.load(directory: directory.path)
            let mondayAt0855UTC: Int64 = 1_796_028_900
            let (deployer, events) = try deployer(sandbox.host, config: config)
            let host = sandbox.host
            deployer.afterLock = {
                _ = try await BlackoutGuard(entries: entries, now: mondayAt0855UTC)
                    .check(action: "deploy", command: "botops deploy --service sighook", force: false, host: host, state: StateDirectory(path: "~/.botops"))
            }
            let refusal = await #expect(throws: DeployError.self) {
                _ = try await deployer.deploy(DeployRequest(services: ["sighook"], command: "botops deploy --service sighook"))
            }
            #expect(refusal?.exitCode == .refused)
            #expect(refusal?.description.contains("blackout window") == true, "\(String(describing: refusal))")
            #expect(events.stepNames == ["lock"])
            #expect(try await sandbox.checkout() == before)
            #expect(try await DeployLock(state: StateDirectory(path: "~/.botops"), staleAfter: .seconds(3600), runner: host).status() == .free(interrupted: nil))
        }
    }

    /// The binary as CI runs it, cancelled as GitHub Actions cancels (SIGINT, then SIGTERM) while
    /// `stop` runs: the stop ends, the old container starts again, exit 130 in the process and in
    /// the JSON `finished` event.
    @Test func theBinaryCancelledLikeGitHubActionsDuringStopExits130() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let original = try await sandbox.runningImage("sighook")
            try await sandbox.commit(on: "main", files: ["VERSION": "2-actions\n"], message: "sighook: a release cancelled by CI")
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let stdout = directory.appendingPathComponent("stdout"), stderr = directory.appendingPathComponent("stderr")
            FileManager.default.createFile(atPath: stdout.path, contents: nil)
            FileManager.default.createFile(atPath: stderr.path, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: BuiltBinary.botops.path)
            process.arguments = ["deploy", "--service", "sighook", "--format", "json", "--config", config]
            process.standardOutput = try FileHandle(forWritingTo: stdout)
            process.standardError = try FileHandle(forWritingTo: stderr)
            try process.run()
            func output() -> String { (try? String(contentsOf: stdout, encoding: .utf8)) ?? "" }
            var polls = 0
            while process.isRunning, !output().contains("\"event\":\"step_started\",\"index\":7"), polls < 1200 {
                try await Task.sleep(for: .milliseconds(50))
                polls += 1
            }
            kill(process.processIdentifier, SIGINT)
            try await Task.sleep(for: .milliseconds(300))
            kill(process.processIdentifier, SIGTERM)
            while process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
            let errors = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
            #expect(process.terminationStatus == 130, "\(output())\n\(errors)")
            let finished = output().split(separator: "\n").last.map(String.init) ?? ""
            #expect(finished.contains("\"event\":\"finished\"") && finished.contains("\"exit_code\":130") && finished.contains("\"result\":\"interrupted\""), "\(finished)")
            #expect(errors.contains("SIGTERM after SIGINT: the same request"), "\(errors)")
            #expect(!output().contains("\"step\":\"up\""), "nothing after stop")
            #expect(try await sandbox.sh("docker inspect -f '{{.State.Running}}' sighook") == "true")
            #expect(try await sandbox.runningImage("sighook") == original)
            let record = try #require(try await sandbox.audit(last: 1).last)
            #expect(record.result == "interrupted" && record.failure == "SIGINT during step stop")
            #expect(try await DeployLock(state: StateDirectory(path: "~/.botops"), staleAfter: .seconds(3600), runner: sandbox.host).status() == .free(interrupted: nil))
        }
    }

    /// Ctrl-C while waiting (`--lock-wait`) for another deploy's lock stops waiting at once.
    @Test func interruptedWhileWaitingForTheLockStopsWaiting() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let other = try await DeployLock(state: StateDirectory(path: "~/.botops"), staleAfter: .seconds(3600), runner: sandbox.host)
                .acquire(as: .current(command: "botops deploy --service webhook"), wait: nil)
            let (deployer, events) = try deployer(sandbox, config: config, interruptAt: "lock")
            var request = DeployRequest(services: ["sighook"], command: "botops deploy --service sighook")
            request.lockWait = .seconds(600)
            let outcome = try await deployer.deploy(request)
            await other.release()
            #expect(outcome.result == .interrupted, "\(events.text)")
            #expect(outcome.processExitCode == 130)
            #expect(outcome.summary.contains("nothing had changed on the host"), "\(outcome.summary)")
            #expect(events.notices.contains { $0.contains("waiting for the deploy lock") })
        }
    }
}

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
