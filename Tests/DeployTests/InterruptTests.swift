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
