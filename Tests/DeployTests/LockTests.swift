@testable import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// The deploy lock on the sandbox's real sshd, each test in its own state directory so they
/// never meet a real deploy's lock.
@Suite(.holdingTheSandboxLock, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct LockTests {
    let sandbox: Sandbox
    let state = StateDirectory(path: "/tmp/botops-lock-test-" + UUID().uuidString.prefix(8).lowercased())

    init() throws {
        sandbox = try Sandbox.require()
    }

    func connect() async throws -> SSHConnection {
        try await SSHConnection.connect(to: try sandbox.target())
    }

    func lock(_ runner: any CommandRunner) -> DeployLock {
        DeployLock(state: state, staleAfter: .seconds(3600), runner: runner)
    }

    func cleanUp(_ host: any CommandRunner) async {
        _ = try? await host.run("rm -rf \(shellQuote(state.path))")
    }

    @Test func secondHolderIsRefusedWithTheFirstNamedAndReleaseFreesIt() async throws {
        let host = try await connect()
        try await host.closing {
            let first = try await lock(host).acquire(as: .current(command: "botops deploy --service sighook"), wait: nil)
            first.record(step: "build", revision: "0123456789abcdef")
            await first.recorded()
            let refusal = await #expect(throws: HostStateError.self) {
                _ = try await lock(host).acquire(as: .current(command: "botops deploy --service webhook"), wait: nil)
            }
            guard case .lockHeld(let holder, let stale)? = refusal else {
                Issue.record("expected lockHeld, got \(String(describing: refusal))")
                return
            }
            #expect(!stale)
            #expect(holder.command == "botops deploy --service sighook")
            #expect(holder.step == "build")
            #expect(refusal?.exitCode == .refused)
            #expect(refusal?.description.contains("step build at 0123456789ab") == true)
            await first.release()
            #expect(try await lock(host).status() == .free(interrupted: nil))
            let again = try await lock(host).acquire(as: .current(command: "again"), wait: nil)
            #expect(again.interrupted == nil)
            await again.release()
            await cleanUp(host)
        }
    }

    @Test func holderWhoseSessionDiesFreesTheLockAndIsNamedNext() async throws {
        let host = try await connect()
        try await host.closing {
            // Another botops's session, killed with SIGKILL while it holds the lock: the same
            // host-side command, run by the ssh client, which is then killed.
            var holder = LockHolder.current(command: "botops deploy --service sighook")
            holder.step = "build"
            let script = lock(host).acquireCommand(holder).script.text
            let client = shellCommand(["ssh", "-F", sandbox.sshConfig, sandbox.alias, script])
            let started = try await LocalHost().run("\(client) > /dev/null 2>&1 & echo $!")
            let clientPID = started.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            // Killed on every way out: a client left running would hold the lock after the test.
            defer { if let pid = pid_t(clientPID) { kill(pid, SIGKILL) } }
            var status = try await lock(host).status()
            // Until the record is written: the holder's pid goes first, its record after.
            for _ in 0..<100 {
                if case .held(_?, _) = status { break }
                try await Task.sleep(for: .milliseconds(100))
                status = try await lock(host).status()
            }
            guard case .held(let other?, _) = status else {
                Issue.record("the ssh client never took the lock: \(status)")
                return
            }
            #expect(other.step == "build")
            _ = try await LocalHost().run("kill -KILL \(clientPID)")
            for _ in 0..<50 {
                if case .free = status { break }
                try await Task.sleep(for: .milliseconds(100))
                status = try await lock(host).status()
            }
            guard case .free(let interrupted?) = status else {
                Issue.record("lock not freed after the holder's session died: \(status)")
                return
            }
            #expect(interrupted.step == "build")
            let next = try await lock(host).acquire(as: .current(command: "next"), wait: nil)
            #expect(next.interrupted?.step == "build")
            #expect(next.interrupted?.command == "botops deploy --service sighook")
            await next.release()
            await cleanUp(host)
        }
    }

    @Test func waitingHolderProceedsOnceTheFirstReleases() async throws {
        let host = try await connect()
        try await host.closing {
            let first = try await lock(host).acquire(as: .current(command: "first"), wait: nil)
            let waited = LockedFlag()
            let second = Task {
                try await lock(host).acquire(as: .current(command: "second"), wait: .seconds(30), pollInterval: .milliseconds(200)) { holder in
                    waited.set(holder?.command == "first")
                }
            }
            try await Task.sleep(for: .milliseconds(800))
            await first.release()
            let held = try await second.value
            #expect(waited.value)
            guard case .held(let holder?, stale: false) = try await lock(host).status() else {
                Issue.record("the second holder does not hold the lock")
                return
            }
            #expect(holder.command == "second")
            await held.release()
            await cleanUp(host)
        }
    }

    @Test func aHolderWithoutProgressForStaleAfterIsReportedStale() async throws {
        let host = try await connect()
        try await host.closing {
            let quiet = DeployLock(state: state, staleAfter: .seconds(7200), runner: host)
            let held = try await quiet.acquire(as: .current(command: "a hung deploy"), wait: nil)
            // Its last progress three hours ago (the record's time is set back; nothing waits).
            _ = try await host.run("touch -d '-3 hours' \(shellQuote(state.path + "/holder.json"))")
            guard case .held(let holder?, stale: true) = try await quiet.status() else {
                Issue.record("a holder silent for 3 h with stale_after 2 h must be stale")
                return
            }
            #expect(holder.idleSeconds.map { $0 >= 3 * 3600 } == true)
            let refusal = await #expect(throws: HostStateError.self) {
                _ = try await quiet.acquire(as: .current(command: "next"), wait: nil)
            }
            // Its holder still runs: idle, not dead.
            #expect(refusal?.description.contains("idle since") == true)
            #expect(refusal?.description.contains("probably dead") == false)
            #expect(refusal?.description.contains("botops lock release --force --reason") == true)
            await held.release()
            await cleanUp(host)
        }
    }

    @Test func forcedReleaseBreaksALiveHolder() async throws {
        let host = try await connect()
        try await host.closing {
            let stuck = try await lock(host).acquire(as: .current(command: "stuck"), wait: nil)
            let removed = try await lock(host).forceRelease()
            #expect(removed?.command == "stuck")
            let next = try await lock(host).acquire(as: .current(command: "next"), wait: nil)
            #expect(next.interrupted == nil)
            await next.release()
            await stuck.release()
            await cleanUp(host)
        }
    }

    /// Runs `script` on the host in the state directory, detached from every botops session (as
    /// a command of a deploy whose botops was killed keeps running).
    func detached(_ host: any CommandRunner, _ script: String) async throws {
        _ = try await host.run("mkdir -p \(shellQuote(state.path)) && cd \(shellQuote(state.path)) && (setsid sh -c \(shellQuote(script)) >/dev/null 2>&1 </dev/null &)")
    }

    @Test func aChangingCommandStillRunningHoldsOffTheNextDeployBoundedByLockWait() async throws {
        let host = try await connect()
        try await host.closing {
            // `up` of a deploy whose botops died: it still runs under the step lock.
            try await detached(host, "printf 'deploy step up\\n' > step.cmd; flock -s step.lock sh -c 'sleep 3; touch up-ended'")
            try await Task.sleep(for: .milliseconds(300))
            let refusal = await #expect(throws: HostStateError.self) {
                _ = try await lock(host).acquire(as: .current(command: "refused"), wait: nil)
            }
            #expect(refusal == .stepStillRunning("deploy step up"))
            #expect(refusal?.exitCode == .refused)
            let named = LockedFlag()
            let held = try await lock(host).acquire(as: .current(command: "waits"), wait: .seconds(30)) { _ in } onStep: { command in
                named.set(command == "deploy step up")
            }
            #expect(named.value)
            let ended = try await host.run("test -e \(shellQuote(state.path + "/up-ended")) && echo yes")
            #expect(ended.stdoutText.contains("yes"), "the lock was taken only after the step's command ended")
            await held.release()
            await cleanUp(host)
        }
    }

    /// Ctrl-C while waiting for a step that still runs stops waiting: the acquisition ends when
    /// cancelled, not when the step ends (and then never, holding the lock).
    @Test func cancelledWhileWaitingForAStepStopsWaiting() async throws {
        let host = try await connect()
        try await host.closing {
            try await detached(host, "echo $$ > step-holder.pid; printf 'deploy step up\\n' > step.cmd; exec flock -s step.lock sh -c 'sleep 30; touch up-ended'")
            try await Task.sleep(for: .milliseconds(300))
            let named = LockedFlag()
            let lock = lock(host)
            let waiting = Task {
                try await lock.acquire(as: .current(command: "waits"), wait: .seconds(120)) { _ in } onStep: { _ in named.set(true) }
            }
            while !named.value { try await Task.sleep(for: .milliseconds(50)) }
            waiting.cancel()
            // Loose bound: the step itself runs 30 s more.
            let ended = await bounded(.seconds(5)) { await waiting.result }
            #expect(ended != nil, "the acquisition went on waiting after it was cancelled")
            if case .success(let held)? = ended { await held.release() }
            _ = try await host.run("kill -- -$(cat \(shellQuote(state.path + "/step-holder.pid"))); true")
            await cleanUp(host)
        }
    }

    @Test func plainReleaseNeverRemovesALiveHolderAndClearsAGoneOne() async throws {
        let host = try await connect()
        try await host.closing {
            let live = try await lock(host).acquire(as: .current(command: "live"), wait: nil)
            guard case .held(let holder?, _) = try await lock(host).releaseIfGone() else {
                Issue.record("a live holder must be reported held")
                return
            }
            #expect(holder.command == "live")
            #expect(holder.idleText.hasPrefix("idle since "))
            guard case .held(let still?, _) = try await lock(host).status() else {
                Issue.record("the live holder's record was removed")
                return
            }
            #expect(still.command == "live")
            // The holder's process dies without releasing: its record stays, and is cleared.
            _ = try await host.run("kill $(cat \(shellQuote(state.path + "/holder.pid")))")
            try await Task.sleep(for: .milliseconds(300))
            guard case .free(let gone?) = try await lock(host).releaseIfGone() else {
                Issue.record("the gone holder's record must be reported and removed")
                return
            }
            #expect(gone.command == "live")
            #expect(try await lock(host).status() == .free(interrupted: nil))
            await live.release()
            await cleanUp(host)
        }
    }

    /// The look and the removal are one step under the lock: a deploy that took the lock after
    /// plain release read the record (here: its pid file still names a gone process) keeps it.
    @Test func plainReleaseNeverRemovesTheRecordOfAHolderThatTookTheLockMeanwhile() async throws {
        let host = try await connect()
        try await host.closing {
            let live = try await lock(host).acquire(as: .current(command: "live"), wait: nil)
            let pidFile = shellQuote(state.path + "/holder.pid")
            let gone = try await host.run("sh -c 'echo $$'").stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            _ = try await host.run("cp \(pidFile) \(pidFile).live; echo \(gone) > \(pidFile)")
            guard case .held = try await lock(host).releaseIfGone() else {
                Issue.record("a lock held now must be reported held")
                return
            }
            #expect(try await host.run("test -s \(shellQuote(state.path + "/holder.json"))").succeeded, "the live holder's record was removed")
            _ = try await host.run("mv \(pidFile).live \(pidFile)")
            await live.release()
            await cleanUp(host)
        }
    }

    @Test func aBrokenLockIsSeenByItsHolder() async throws {
        let host = try await connect()
        try await host.closing {
            let held = try await lock(host).acquire(as: .current(command: "deploy"), wait: nil)
            #expect(!held.isLost)
            _ = try await lock(host).forceRelease()
            for _ in 0..<50 where !held.isLost { try await Task.sleep(for: .milliseconds(100)) }
            #expect(held.isLost)
            await held.release()
            await cleanUp(host)
        }
    }

    @Test func releaseIsBoundedWhenTheReleaseCommandFails() async throws {
        let host = try await connect()
        try await host.closing {
            let held = try await lock(host).acquire(as: .current(command: "deploy"), wait: nil)
            // The release command cannot enter the state directory: the holder is never killed.
            _ = try await host.run("chmod 000 \(shellQuote(state.path))")
            let released = await withTaskGroup(of: Bool.self) { group in
                group.addTask { await held.release(); return true }
                group.addTask { try? await Task.sleep(for: .seconds(40)); return false }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            #expect(released, "release() must give up on a holder that does not end")
            _ = try await host.run("chmod 700 \(shellQuote(state.path)) && kill $(cat \(shellQuote(state.path + "/holder.pid")))")
            await cleanUp(host)
        }
    }

    @Test func aForeignFlockWithoutARecordIsHeldNotASpin() async throws {
        let host = try await connect()
        try await host.closing {
            try await detached(host, "flock lock sleep 20")
            try await Task.sleep(for: .milliseconds(300))
            let refusal = await #expect(throws: HostStateError.self) {
                _ = try await lock(host).acquire(as: .current(command: "next"), wait: nil, clock: ContinuousClock())
            }
            guard case .lockHeld(let holder, _)? = refusal else {
                Issue.record("expected lockHeld, got \(String(describing: refusal))")
                return
            }
            #expect(holder.command.contains("no holder record"))
            _ = try await host.run("pkill -f \(shellQuote("[f]lock lock sleep 20")); true")
            await cleanUp(host)
        }
    }
}

final class LockedFlag: @unchecked Sendable {
    private let mutex = NSLock()
    private var stored = false
    var value: Bool { mutex.withLock { stored } }
    func set(_ value: Bool) { mutex.withLock { stored = value } }
}
