@testable import BotOpsKit
import Foundation
import HostCommands
import Remote
import SandboxSupport
import Testing

/// A checkout step held on the host until the test lets it end: a `post-checkout` hook in the
/// sandbox checkout that marks `started`, waits for `release` (at most 120 s) and marks `ended`.
/// Signals then land in the step for certain, and what waits for it can be judged by order.
struct HeldCheckout {
    let sandbox: DeploySandbox
    /// On the host, which is this machine: the test reads the marks without a round trip.
    let directory: String

    var started: String { directory + "/started" }
    var ended: String { directory + "/ended" }

    /// Installs the hook, runs `body`, and removes hook and marks also when `body` throws.
    static func with(_ sandbox: DeploySandbox, _ body: (HeldCheckout) async throws -> Void) async throws {
        let directory = try await sandbox.sh("mktemp -d /tmp/botops-held-checkout.XXXXXX")
        let held = HeldCheckout(sandbox: sandbox, directory: directory)
        let hook = shellQuote(sandbox.sandbox.app + "/.git/hooks/post-checkout")
        // mktemp's name needs no quoting inside the hook.
        try await sandbox.sh("""
            cat > \(hook) <<'EOF'
            #!/bin/sh
            touch \(directory)/started
            i=0; while [ ! -e \(directory)/release ] && [ "$i" -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
            touch \(directory)/ended
            EOF
            chmod 755 \(hook)
            """)
        do {
            try await body(held)
        } catch {
            try? await held.remove(hook: hook)
            throw error
        }
        try await held.remove(hook: hook)
    }

    private func remove(hook: String) async throws {
        // Let a hook still waiting end first, so no checkout of the test outlives it.
        let dir = shellQuote(directory)
        try await sandbox.sh("touch \(dir)/release; if [ -e \(dir)/started ]; then for i in $(seq 100); do [ -e \(dir)/ended ] && break; sleep 0.1; done; fi; rm -rf \(hook) \(dir)")
    }

    /// Waits (on the host, bounded) until the checkout runs its hook.
    func waitStarted() async throws {
        try await sandbox.sh("for i in $(seq 1200); do [ -e \(shellQuote(started)) ] && exit 0; sleep 0.1; done; echo 'the checkout never started' >&2; exit 1", timeout: .seconds(180))
    }

    /// Lets the checkout end.
    func release() async throws {
        try await sandbox.sh("touch \(shellQuote(directory))/release")
    }

    var hasEnded: Bool { FileManager.default.fileExists(atPath: ended) }
}

/// The binary run as CI runs it, its stdout (JSON events) and stderr kept in files.
final class BotopsProcess {
    let process = Process()
    let directory: URL
    var stdout: URL { directory.appendingPathComponent("stdout") }
    var stderr: URL { directory.appendingPathComponent("stderr") }

    init(_ arguments: [String]) throws {
        directory = try temporaryDirectory()
        FileManager.default.createFile(atPath: stdout.path, contents: nil)
        FileManager.default.createFile(atPath: stderr.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: BuiltBinary.botops.path)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }

    var output: String { (try? String(contentsOf: stdout, encoding: .utf8)) ?? "" }
    var errors: String { (try? String(contentsOf: stderr, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Polls (every 50 ms, at most `polls` times) until `condition` holds or the process ended.
    func wait(polls: Int = 2400, until condition: (BotopsProcess) -> Bool) async throws {
        var count = 0
        while process.isRunning, !condition(self), count < polls {
            try await Task.sleep(for: .milliseconds(50))
            count += 1
        }
    }

    func exitStatus() async throws -> Int32 {
        while process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        return process.terminationStatus
    }

    var finishedEvent: String { output.split(separator: "\n").last.map(String.init) ?? "" }
}

/// A deployer on `runner` that `interruption` asks to stop, as the lifecycle asks on a signal;
/// its events go to `onEvent` too.
func interruptibleDeployer(_ runner: any CommandRunner, config path: String, interruption: Interruption,
                           onEvent: @escaping @Sendable (DeployEvent) -> Void = { _ in }) throws -> (Deployer, EventLog) {
    let config = try BotOpsConfig.load(path: path)
    let events = EventLog()
    let deployer = Deployer(config: config,
                            deployPlaybook: try config.deploy.loadPlaybook(.deploy, configPath: path),
                            rollbackPlaybook: try config.deploy.loadPlaybook(.rollback, configPath: path),
                            runner: runner, interruption: interruption) { event in
        events.append(event)
        onEvent(event)
    }
    return (deployer, events)
}

/// Ctrl-C, SIGTERM and CI's cancel while `checkout` runs, and a deploy waiting for the lock while
/// an interrupted (or killed) deploy's step still runs on the host.
@Suite(.enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct InterruptCheckoutTests {
    static func lock(_ host: any CommandRunner) -> DeployLock {
        DeployLock(state: StateDirectory(path: "~/.botops"), staleAfter: .seconds(3600), runner: host)
    }

    /// The signal comes while `git checkout` runs: the checkout runs to its end, nothing after it
    /// runs, the audit line and the holder record are written at the signal (before the step
    /// ends), and the report names the revision checked out and the one command that undoes it.
    @Test(arguments: [SIGINT, SIGTERM])
    func interruptedDuringCheckoutTheCheckoutEndsAndNothingElseRuns(signal: Int32) async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let original = try await sandbox.runningImage("sighook")
            let before = try await sandbox.checkout()
            let target = try await sandbox.commit(on: "main", files: ["VERSION": "2-checkout\n"], message: "sighook: a release interrupted at checkout")
            try await HeldCheckout.with(sandbox) { held in
                let interruption = Interruption()
                let (deployer, events) = try interruptibleDeployer(sandbox.host, config: config, interruption: interruption)
                let run = Task { try await deployer.deploy(DeployRequest(services: ["sighook"], command: "botops deploy --service sighook")) }
                try await held.waitStarted()
                interruption.request(signal)
                // Written at the signal, while the checkout still runs.
                let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
                let lock = Self.lock(sandbox.host)
                var record: AuditRecord?
                var holder: LockHolder?
                for _ in 0..<100 {
                    record = try await sandbox.audit(last: 1).last
                    if case .held(let now, _) = try await lock.status() { holder = now }
                    if record?.result == "interrupted", holder?.step.contains("interrupted") == true { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(!held.hasEnded)
                #expect(record?.result == "interrupted" && record?.failure == "\(name) during step checkout", "\(String(describing: record))")
                #expect(holder?.step == "checkout (interrupted by \(name))", "\(String(describing: holder))")
                try await held.release()
                let outcome = try await run.value
                #expect(outcome.result == .interrupted, "\(events.text)")
                #expect(outcome.processExitCode == (signal == SIGINT ? 130 : 143))
                #expect(events.stepNames == ["lock", "preflight", "baseline", "keep-image", "checkout"], "checkout ran to its end, nothing after it")
                let checkoutOK = events.events.contains { if case .stepFinished("checkout", .ok, _, _) = $0 { true } else { false } }
                #expect(checkoutOK, "\(events.text)")
                #expect(try await sandbox.checkout() == ("main", target))
                #expect(try await sandbox.runningImage("sighook") == original, "no container was touched")
                #expect(outcome.summary.contains("interrupted by \(name) during step checkout"), "\(outcome.summary)")
                #expect(outcome.summary.contains("the checkout is at main at \(target.prefix(12)) (was \(before.revision.prefix(12)))"), "\(outcome.summary)")
                #expect(outcome.advice?.contains("botops rollback --service sighook --to \(before.revision.prefix(12))") == true, "\(String(describing: outcome.advice))")
                #expect(JSONEventRenderer().render(.finished(outcome))?.contains("\"exit_code\":\(signal == SIGINT ? 130 : 143)") == true)
                #expect(try await lock.status() == .free(interrupted: nil))
            }
        }
    }

    /// GitHub Actions' cancel (SIGINT, then SIGTERM 7.5 s later; here the SIGTERM comes once the
    /// first signal was taken, while the checkout still runs) of the binary during `checkout`.
    @Test func theBinaryCancelledLikeGitHubActionsDuringCheckoutExits130() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let original = try await sandbox.runningImage("sighook")
            let target = try await sandbox.commit(on: "main", files: ["VERSION": "2-actions-checkout\n"], message: "sighook: a release cancelled by CI at checkout")
            try await HeldCheckout.with(sandbox) { held in
                let botops = try BotopsProcess(["deploy", "--service", "sighook", "--format", "json", "--config", config])
                try await held.waitStarted()
                botops.signal(SIGINT)
                try await botops.wait { $0.errors.contains("interrupted (SIGINT)") }
                botops.signal(SIGTERM)
                try await botops.wait { $0.errors.contains("SIGTERM after SIGINT: the same request") }
                #expect(botops.process.isRunning, "the second signal did not end botops: \(botops.errors)")
                try await held.release()
                let status = try await botops.exitStatus()
                #expect(status == 130, "\(botops.output)\n\(botops.errors)")
                let finished = botops.finishedEvent
                #expect(finished.contains("\"event\":\"finished\"") && finished.contains("\"exit_code\":130") && finished.contains("\"result\":\"interrupted\""), "\(finished)")
                #expect(finished.contains("during step checkout"), "\(finished)")
                #expect(!botops.output.contains("\"step\":\"build\""), "nothing after checkout: \(botops.output)")
                #expect(try await sandbox.checkout() == ("main", target))
                #expect(try await sandbox.runningImage("sighook") == original)
                let record = try #require(try await sandbox.audit(last: 1).last)
                #expect(record.result == "interrupted" && record.failure == "SIGINT during step checkout")
                #expect(try await Self.lock(sandbox.host).status() == .free(interrupted: nil))
            }
        }
    }

    /// A second deploy (`--lock-wait`) while the first one's checkout still runs on the host,
    /// the first one interrupted (it holds the deploy lock until the step ends) or killed with
    /// SIGKILL (its lock is gone, the step lock is not): the second takes the lock only once the
    /// step ended.
    @Test(arguments: [SIGINT, SIGKILL])
    func aWaitingDeployStartsOnlyAfterTheInterruptedStepEnded(signal: Int32) async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let original = try await sandbox.runningImage("sighook")
            let target = try await sandbox.commit(on: "main", files: ["VERSION": "2-waited-for\n"], message: "sighook: a release whose checkout is waited for")
            try await HeldCheckout.with(sandbox) { held in
                let first = try BotopsProcess(["deploy", "--service", "sighook", "--format", "json", "--config", config])
                try await held.waitStarted()
                first.signal(signal)
                if signal == SIGKILL { _ = try await first.exitStatus() }

                // The second deploy stops right after it holds the lock (at its first step after
                // it), so whether the step had ended is read at that moment.
                let interruption = Interruption()
                let endedWhenLocked = EventLog()
                let (second, events) = try interruptibleDeployer(sandbox.host, config: config, interruption: interruption) { event in
                    if case .stepFinished("lock", .ok, _, _) = event {
                        endedWhenLocked.append(.notice(held.hasEnded ? "ended" : "running"))
                    }
                    if case .stepStarted("preflight", _, _) = event { interruption.request(SIGINT) }
                }
                var request = DeployRequest(services: ["sighook"], command: "botops deploy --service sighook --lock-wait 2m")
                request.lockWait = .seconds(120)
                let run = Task { try await second.deploy(request) }
                let waiting = signal == SIGKILL ? "waiting for a command of an earlier deploy that still runs on the host: deploy step checkout"
                                                : "waiting for the deploy lock"
                for _ in 0..<600 where !events.notices.contains(where: { $0.contains(waiting) }) {
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(events.notices.contains { $0.contains(waiting) }, "\(events.text)")
                #expect(events.stepNames.isEmpty, "the second deploy went on while the step ran: \(events.text)")
                try await held.release()
                let outcome = try await run.value
                #expect(endedWhenLocked.notices == ["ended"], "the second deploy held the lock before the first one's checkout ended: \(events.text)")
                #expect(!events.stepNames.contains("keep-image"), "\(events.text)")
                #expect(outcome.result == .interrupted)
                if signal == SIGKILL {
                    #expect(events.notices.contains { $0.contains("the previous deploy was interrupted without releasing the lock") }, "\(events.text)")
                    // The killed one's records of process groups (its fetch's) were removed by the second.
                    let records = try await sandbox.sh("ls ~/.botops | grep '^run-\(first.process.processIdentifier)-.*\\.pgids$' || true")
                    #expect(records.isEmpty, "left behind: \(records)")
                } else {
                    #expect(try await first.exitStatus() == 130, "\(first.output)\n\(first.errors)")
                }
                // The first one's checkout ran to its end; its containers were never touched.
                #expect(try await sandbox.checkout() == ("main", target))
                #expect(try await sandbox.runningImage("sighook") == original)
                #expect(try await Self.lock(sandbox.host).status() == .free(interrupted: nil))
            }
        }
    }

    /// The fetch from a slow origin (its upload-pack sleeps) is stopped on the host: no process
    /// of it remains, the checkout did not move.
    @Test func interruptedDuringTheFetchTheFetchIsStoppedOnTheHost() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let before = try await sandbox.checkout()
            try await sandbox.commit(on: "main", files: ["VERSION": "2-slow-fetch\n"], message: "sighook: a release behind a slow fetch")
            let app = shellQuote(sandbox.sandbox.app)
            try await sandbox.sh("git -C \(app) config remote.origin.uploadpack 'sleep 53; git-upload-pack'")
            do {
                let interruption = Interruption()
                let (deployer, events) = try interruptibleDeployer(sandbox.host, config: config, interruption: interruption)
                let run = Task { try await deployer.deploy(DeployRequest(services: ["sighook"], command: "botops deploy --service sighook")) }
                try await sandbox.sh("for i in $(seq 1200); do pgrep -fx 'sleep 53' >/dev/null && exit 0; sleep 0.1; done; exit 1", timeout: .seconds(180))
                interruption.request(SIGINT)
                let outcome = try await run.value
                _ = try await sandbox.sh("git -C \(app) config --unset remote.origin.uploadpack")
                #expect(outcome.result == .interrupted, "\(events.text)")
                #expect(outcome.processExitCode == 130)
                let stopped = events.events.contains { event in
                    if case .stepFinished("checkout", .failed, _, let message?) = event { return message.hasPrefix("stopped: interrupted by SIGINT") }
                    return false
                }
                #expect(stopped, "the fetch was stopped on the host, not waited for: \(events.text)")
                #expect(events.stepNames.last == "checkout")
                #expect(outcome.summary.contains("nothing had changed on the host"), "\(outcome.summary)")
                #expect(try await sandbox.checkout() == before)
                // The stop waits for the step's processes to end: none is left by now.
                let left = try await sandbox.sh("pgrep -u \"$(id -u)\" -af 'slee[p] 53|git-upload-pac[k]|git fetc[h]' || true")
                #expect(left.isEmpty, "still running on the host: \(left)")
            } catch {
                _ = try? await sandbox.sh("git -C \(app) config --unset remote.origin.uploadpack")
                throw error
            }
        }
    }
}
