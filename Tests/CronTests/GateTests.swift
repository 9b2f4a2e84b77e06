@testable import BotOpsKit
@testable import Checks
import Cron
import Foundation
import Remote
import SandboxSupport
import Testing

/// The gate against the sandbox host: each refusal made real, then undone.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct GateSandboxTests {
    let sandbox: Sandbox
    let config: BotOpsConfig

    init() throws {
        sandbox = try Sandbox.require()
        config = try BotOpsConfig.load(path: sandbox.configFile)
    }

    func gate(at instant: String) throws -> Gate {
        Gate(config: config, entries: [try entry(weeklyEntryText)], service: "sighook", at: utc(instant))
    }

    func run(_ gate: Gate, _ body: ((any HostConnection) async throws -> Void)? = nil, undo: ((any HostConnection) async throws -> Void)? = nil) async throws -> GateReport {
        let lock = try await SandboxLock.acquire()
        defer { lock.release() }
        let connection = try await SSHConnection.connect(to: try sandbox.target())
        return try await connection.closing {
            try await body?(connection)
            let report = await gate.run(destination: sandbox.alias) { connection }
            try await undo?(connection)
            return report
        }
    }

    func status(_ report: GateReport, _ name: GateVerdict.Name) -> GateVerdict.Status? {
        report.verdicts.first { $0.name == name }?.status
    }

    @Test func goOutsideTheWindowRefusedInsideIt() async throws {
        let outside = try await run(try gate(at: "2026-11-30T18:00"))
        #expect(outside.exitCode == .success, "\(GateFormat.text.render(outside))")
        #expect(outside.verdicts.map(\.status) == [.pass, .pass, .pass, .pass, .pass, .pass, .pass])
        let inside = try await run(try gate(at: "2026-11-30T17:05"))
        #expect(inside.exitCode == .refused)
        #expect(status(inside, .blackout) == .fail)
        #expect(status(inside, .checks) == .pass)
    }

    /// `--service` is judged by deploy's own compose check: a service botops.yml names but the
    /// host's compose file lacks is refused, as `deploy --service` refuses it; one it has passes.
    @Test func aServiceTheComposeFileLacksIsRefusedAsDeployWouldRefuseIt() async throws {
        var withGhost = config
        withGhost.services.append("ghost")
        let ghost = try await run(Gate(config: withGhost, entries: [try entry(weeklyEntryText)], service: "ghost", at: utc("2026-11-30T18:00")))
        #expect(ghost.exitCode == .refused, "\(GateFormat.text.render(ghost))")
        let verdict = ghost.verdicts.first { $0.name == .services }
        #expect(verdict?.status == .fail)
        #expect(verdict?.message.contains("ghost") == true, "\(verdict?.message ?? "")")
        let sighook = try await run(try gate(at: "2026-11-30T18:00"))
        #expect(status(sighook, .services) == .pass, "\(GateFormat.text.render(sighook))")
    }

    @Test func dirtyCheckoutIsRefused() async throws {
        let app = sandbox.app
        let report = try await run(try gate(at: "2026-11-30T18:00"), { host in
            _ = try await host.run("touch \(shellQuote(app + "/stray-edit.txt"))")
        }, undo: { host in
            _ = try await host.run("rm -f \(shellQuote(app + "/stray-edit.txt"))")
        })
        #expect(report.exitCode == .refused)
        #expect(report.verdicts.first { $0.name == .cleanCheckout }?.message.contains("stray-edit.txt") == true)
    }

    /// A checkout on a detached revision: deploy would refuse it (wrong branch), so the gate does.
    @Test func aDetachedCheckoutIsRefusedAsDeployWouldRefuseIt() async throws {
        let app = shellQuote(sandbox.app)
        let report = try await run(try gate(at: "2026-11-30T18:00"), { host in
            _ = try await host.run("cd \(app) && git checkout -q --detach HEAD")
        }, undo: { host in
            _ = try await host.run("cd \(app) && git checkout -q main")
        })
        #expect(report.exitCode == .refused, "\(GateFormat.text.render(report))")
        #expect(report.verdicts.first { $0.name == .branch }?.message.contains("detached revision") == true)
    }

    @Test func heldDeployLockIsRefusedAndNamesTheHolder() async throws {
        let state = StateDirectory(path: "/tmp/botops-gate-test-\(UUID().uuidString)")
        var lockedConfig = config
        lockedConfig.deploy.stateDirectory = state
        let gate = Gate(config: lockedConfig, entries: [], service: nil, at: utc("2026-11-30T18:00"))
        let sandboxLock = try await SandboxLock.acquire()
        defer { sandboxLock.release(); try? runProgram(["rm", "-rf", state.path]) }
        let holderConnection = try await SSHConnection.connect(to: try sandbox.target())
        try await holderConnection.closing {
            let lock = DeployLock(state: state, staleAfter: .seconds(3600), runner: holderConnection)
            let held = try await lock.acquire(as: .current(command: "botops deploy --service sighook", step: "build"), wait: nil)
            let connection = try await SSHConnection.connect(to: try sandbox.target())
            let report = try await connection.closing { await gate.run(destination: "sandbox") { connection } }
            await held.release()
            #expect(report.exitCode == .refused)
            #expect(report.verdicts.first { $0.name == .deployLock }?.message.contains("botops deploy --service sighook, step build") == true)
        }
    }

    @Test func unreachableHostIsExit3AndTheBlackoutIsStillJudged() async throws {
        struct Refused: Error, CustomStringConvertible { var description: String { "connection refused" } }
        let report = await (try gate(at: "2026-11-30T17:05")).run(destination: "bot@127.0.0.1:1") { throw Refused() }
        #expect(status(report, .hostReachable) == .fail)
        #expect(status(report, .blackout) == .fail)
        #expect(report.exitCode == .refused)
        let outside = await (try gate(at: "2026-11-30T18:00")).run(destination: "bot@127.0.0.1:1") { throw Refused() }
        #expect(outside.exitCode == .unreachable)
        #expect(status(outside, .checks) == .skip)
    }

    /// The connection dropped before the gates ran (its sshd session killed): reading the host's
    /// zone, the checkout and the lock lose it; that is exit 3, never a refusal of what the host
    /// never answered (it was a blackout refusal, exit 4, the zone unreadable).
    @Test func aConnectionDroppedWhileReadingTheZoneIsExit3NotARefusal() async throws {
        let hostTime = try entry("0 3 1 1 * /bin/true\n# botops: blackout 10m", name: "new-year")
        let gate = Gate(config: config, entries: [hostTime, try entry(weeklyEntryText)], service: "sighook", at: utc("2026-11-30T18:00"))
        let report = try await run(gate) { host in
            let pid = try #require(pid_t(try await host.run("echo $PPID").stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)))
            kill(try TestSSHServer.sessionProcess(pid), SIGKILL)
        }
        let text = GateFormat.text.render(report)
        #expect(status(report, .blackout) == .pass, "\(text)")
        #expect(report.verdicts.first { $0.name == .blackout }?.message.contains("not judged: new-year") == true, "\(text)")
        #expect(status(report, .hostReachable) == .fail, "\(text)")
        #expect(report.verdicts.first { $0.name == .hostReachable }?.message.contains("connection lost during the blackout gate") == true, "\(text)")
        #expect(report.verdicts.allSatisfy { !$0.refuses }, "\(text)")
        #expect(report.exitCode == .unreachable, "\(text)")
    }

    /// The database paused (`docker pause db`): deploy refuses it in its baseline (exit 4, unless
    /// --unverified) instead of tolerating it, and so does the gate, where it used to say go.
    @Test func aPausedDatabaseIsRefusedAsDeployRefusesIt() async throws {
        let report = try await run(try gate(at: "2026-11-30T18:00"), { host in
            _ = try await host.run("docker pause db")
        }, undo: { host in
            // Left as found: running and healthy again before the next test.
            _ = try await host.run("docker unpause db; for i in $(seq 1 60); do [ \"$(docker inspect --type container -f '{{.State.Health.Status}}' db)\" = healthy ] && break; sleep 1; done")
        })
        let checks = report.verdicts.first { $0.name == .checks }
        #expect(checks?.status == .fail, "\(GateFormat.text.render(report))")
        #expect(checks?.message.contains("deploy would refuse: the database is not running before the deploy (db-running:") == true, "\(checks?.message ?? "")")
        #expect(report.exitCode == .refused)
    }

    /// The host's time zone cannot be read (a `readlink` that fails, first on PATH) and an entry
    /// without CRON_TZ has a blackout window: deploy refuses (exit 4) and so does the gate, where it
    /// used to judge the window in UTC and pass.
    @Test func anUnreadableHostZoneIsRefusedByGateAndDeployAlike() async throws {
        let lock = try await SandboxLock.acquire()
        defer { lock.release() }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bin = directory.appendingPathComponent("bin")
        let crontabD = directory.appendingPathComponent("crontab.d")
        for folder in [bin, crontabD] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        try writeExecutable("#!/bin/sh\nexit 1\n", to: bin.appendingPathComponent("readlink").path)
        // New Year's Day 03:00 in the host's zone: not now, whatever the zone, once it is known.
        try "0 3 1 1 * /bin/true\n# botops: blackout 10m\n".write(to: crontabD.appendingPathComponent("new-year.cron"), atomically: true, encoding: .utf8)
        let state = directory.appendingPathComponent("state").path
        let config = directory.appendingPathComponent("botops.yml").path
        try (try String(contentsOfFile: sandbox.configFile, encoding: .utf8) + "state_dir: \(state)\n").write(toFile: config, atomically: true, encoding: .utf8)
        let environment = ["PATH": bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]
        let common = ["--config", config, "--local", "--crontab-dir", crontabD.path]

        let gate = try await BuiltBinary.botops.run(["gate", "--format", "json"] + common, environment: environment)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(gate.stdoutText.utf8)) as? [String: Any], "\(gate.stdoutText)\(gate.stderrText)")
        let blackout = (json["gates"] as? [[String: Any]])?.first { $0["name"] as? String == "blackout" }
        #expect(blackout?["status"] as? String == "fail", "\(gate.stdoutText)")
        #expect((blackout?["message"] as? String)?.contains("cannot tell whether now is inside the blackout window of new-year") == true, "\(gate.stdoutText)")
        #expect(gate.termination == .exited(4))

        // A checkout that does not exist: were the window judged (or forced), the deploy would stop
        // at its preflight and change nothing on the sandbox (with /opt/bot it would tag a kept image).
        let noCheckout = directory.appendingPathComponent("no-checkout.yml").path
        try (try String(contentsOfFile: config, encoding: .utf8)).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("path: ") ? "path: /nonexistent-botops-test" : String($0) }.joined(separator: "\n")
            .write(toFile: noCheckout, atomically: true, encoding: .utf8)
        let deployArguments = ["--config", noCheckout, "--local", "--crontab-dir", crontabD.path, "--service", "sighook"]
        let deploy = try await BuiltBinary.botops.run(["deploy"] + deployArguments, environment: environment)
        #expect(deploy.termination == .exited(4), "\(deploy.stdoutText)\(deploy.stderrText)")
        #expect(deploy.stderrText.contains("cannot tell whether now is inside the blackout window of new-year"), "\(deploy.stderrText)")
        #expect(deploy.stderrText.contains("--force"), "the refusal names its override: \(deploy.stderrText)")

        // --force goes ahead as inside a window (a rollback must not be held up by a broken
        // /etc/localtime) and the audit records it; here the deploy then stops at its preflight.
        let forced = try await BuiltBinary.botops.run(["deploy", "--force"] + deployArguments, environment: environment)
        #expect(forced.termination == .exited(1), "\(forced.stdoutText)\(forced.stderrText)")
        #expect(forced.stdoutText.contains("deploy failed at preflight: no checkout at /nonexistent-botops-test"), "\(forced.stdoutText)")
        #expect(!forced.stderrText.contains("cannot tell whether now is inside"), "\(forced.stderrText)")
        let audit = (try? String(contentsOfFile: state + "/audit.jsonl", encoding: .utf8)) ?? ""
        #expect(audit.contains("\"result\":\"forced\"") && audit.contains("new-year"), "\(audit)")
        #expect(audit.contains("\"result\":\"refused\""), "the refusal is audited too: \(audit)")
    }

    /// A check failing before the deploy (the weekly cron line is gone): deploy would tolerate it
    /// as its baseline, so the gate says go and names it; with --strict, as deploy --strict, exit 1.
    @Test func aFailingCheckIsToleratedAsDeployDoesAndExit1UnderStrict() async throws {
        let lock = try await SandboxLock.acquire()
        defer { lock.release() }
        let saved = try SandboxCrontab.read()
        try SandboxCrontab.write(Array("MAILTO=\"\"\n".utf8))
        defer { try? SandboxCrontab.write(saved) }
        let connection = try await SSHConnection.connect(to: try sandbox.target())
        let strictGate = Gate(config: config, entries: [try entry(weeklyEntryText)], service: "sighook", at: utc("2026-11-30T18:00"), strict: true)
        let (lenient, strict) = try await connection.closing {
            (await (try gate(at: "2026-11-30T18:00")).run(destination: sandbox.alias) { connection },
             await strictGate.run(destination: sandbox.alias) { connection })
        }
        #expect(lenient.exitCode == .success, "\(GateFormat.text.render(lenient))")
        #expect(lenient.verdicts.first { $0.name == .checks }?.message.contains("cron-scheduled") == true)
        #expect(lenient.verdicts.first { $0.name == .branch }?.status == .pass)
        #expect(strict.exitCode == .failed, "\(GateFormat.text.render(strict))")
        #expect(strict.verdicts.first { $0.name == .checks }?.message.contains("cron-scheduled") == true)
    }

    /// The services gate runs deploy's preflight, but a failure that is no refusal is a host-state
    /// error with deploy's message and exit code ("preflight failed: …", 1), not a DeployError. Read-only (a
    /// `docker inspect` of the database and a probe of a checkout that does not exist), so it
    /// runs on this machine, where the sandbox's containers are, without the sandbox lock.
    @Test func aPreflightThatCannotRunIsAHostStateErrorNotADeployError() async throws {
        var missing = config
        missing.path = "/nonexistent-botops-gate-test"
        let error = await #expect(throws: HostStateError.self) {
            try await Deployer.preflight(missing.services, config: missing, runner: LocalHost(), timeout: .seconds(30))
        }
        #expect(error?.exitCode == .failed)
        #expect(error?.description == "preflight failed: no checkout at /nonexistent-botops-gate-test: clone the app there first (or fix path: in botops.yml)",
                "\(String(describing: error))")
    }
}

