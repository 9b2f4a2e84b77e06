import Foundation
import Remote
import SandboxSupport
import Testing

/// The sandbox lock's wait, on a lock file of the test's own (parallel-safe): a waiter names who
/// holds the lock and gives up instead of hanging the run.
@Suite struct SandboxLockTests {
    @Test func theWaitComesFromTheEnvironmentInSeconds() throws {
        #expect(try SandboxLock.waitFromEnvironment([:]) == .seconds(1800))
        #expect(try SandboxLock.waitFromEnvironment(["BOTOPS_SANDBOX_LOCK_WAIT": "90"]) == .seconds(90))
        #expect(try SandboxLock.waitFromEnvironment(["BOTOPS_SANDBOX_LOCK_WAIT": "0.5"]) == .milliseconds(500))
        #expect(throws: SandboxLockError.self) { try SandboxLock.waitFromEnvironment(["BOTOPS_SANDBOX_LOCK_WAIT": "30m"]) }
    }

    @Test func aWaiterNamesTheHolderAndGivesUp() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("lock").path
        let holder = try await Self.holdLock(path)
        defer { holder.terminate() }

        let reports = Reports()
        let error = await #expect(throws: SandboxLockError.self) {
            _ = try await SandboxLock.acquire(path: path, wait: .milliseconds(300), reportAfter: .zero) { reports.add($0) }
        }
        let holderLine = "pid \(holder.processIdentifier) (sleep 300)"
        #expect(reports.all.count == 1)
        #expect(reports.all.first?.contains(holderLine) == true)
        #expect(error?.description.contains(holderLine) == true)
        #expect(error?.description.contains("BOTOPS_SANDBOX_LOCK_WAIT") == true)
    }

    /// .ci/run runs scripts/demo, then scripts/test: a leaked holder must fail them with the holders
    /// named, not hang them in a silent flock (the demo used to wait in `flock 9` for ever; the test
    /// script brought the sandbox up without the lock, under a running demo).
    @Test(arguments: ["scripts/demo", "scripts/test"])
    func theScriptsNameTheHolderAndGiveUpInsteadOfHanging(_ script: String) async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("lock").path
        let holder = try await Self.holdLock(path)
        defer { holder.terminate() }

        let program = Self.repositoryRoot.appendingPathComponent(script).path
        let result = try await LocalHost().run(
            "BOTOPS_SANDBOX_LOCK=\(shellQuote(path)) BOTOPS_SANDBOX_LOCK_WAIT=0.2 \(shellQuote(program)) </dev/null", timeout: .seconds(120))
        let holderLine = "pid \(holder.processIdentifier) (sleep 300)"
        #expect(result.termination == .exited(1), "stderr: \(result.stderrText)")
        #expect(result.stderrText.contains("waiting for the sandbox lock \(path), held by: \(holderLine)"))
        #expect(result.stderrText.contains("gave up after 0.2 s"))
        #expect(result.stderrText.contains("BOTOPS_SANDBOX_LOCK_WAIT"))
        // It gave up before touching the sandbox.
        #expect(result.stdoutText.isEmpty && !result.stderrText.contains("[sandbox]"))
    }

    /// Under `flock FILE scripts/test` the ancestor's hold is the script's: waiting would wait for itself.
    @Test func aScriptUnderAnAncestorsHoldDoesNotWaitForItself() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("lock").path
        let helper = Self.repositoryRoot.appendingPathComponent("scripts/sandbox-lock").path
        let result = try await LocalHost().run(
            "BOTOPS_SANDBOX_LOCK=\(shellQuote(path)) BOTOPS_SANDBOX_LOCK_WAIT=0.2 flock \(shellQuote(path)) "
                + "bash -c \(shellQuote("set -eu; source \(shellQuote(helper)); take_sandbox_lock; echo took"))", timeout: .seconds(120))
        #expect(result.termination == .exited(0), "stderr: \(result.stderrText)")
        #expect(result.stdoutText == "took\n")
    }

    /// The lock's descriptor is closed on exec: a command a test starts while holding it (a botops
    /// deploy, a shell) must not keep the lock after the test let it go.
    @Test func aChildOfTheHolderDoesNotInheritTheLock() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("lock").path
        let lock = try await SandboxLock.acquire(path: path, wait: .zero)
        defer { lock.release() }
        // LocalHost spawns without closing descriptors (as botops does): only close-on-exec stops them.
        let started = try await LocalHost().run("sleep 300 </dev/null >/dev/null 2>&1 & echo $!")
        let child = try #require(Int32(started.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(child, SIGKILL) }
        #expect(SandboxLock.holders(of: path).allSatisfy { $0.pid != child }, "the child \(child) holds the lock file open")
    }

    /// A holder that keeps the lock on `path`: a sleep that took it (terminating it ends the hold;
    /// its output goes nowhere, so no pipe of the test run stays open behind it).
    static func holdLock(_ path: String) async throws -> Process {
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/bash")
        holder.arguments = ["-c", #"exec 9>>"$1" && flock 9 && exec sleep 300"#, "holder", path]
        holder.standardOutput = FileHandle.nullDevice
        holder.standardError = FileHandle.nullDevice
        try holder.run()
        while !SandboxLock.holders(of: path).contains(where: { $0.command == "sleep 300" }) { try await Task.sleep(for: .milliseconds(20)) }
        return holder
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A test holding the lock (its suite's `.holdingTheSandboxLock`, `SandboxLock.holding`) that
    /// takes it again, through a helper of its own, would wait for itself until
    /// BOTOPS_SANDBOX_LOCK_WAIT (30 minutes) runs out: it is refused at once, saying why.
    @Test func takingTheLockAgainInsideItsHoldIsRefusedAtOnce() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("lock").path
        try await SandboxLock.holding(path: path, wait: .seconds(60)) {
            let again = await #expect(throws: SandboxLockError.self) {
                _ = try await SandboxLock.acquire(path: path, wait: .milliseconds(500), reportAfter: .seconds(60))
            }
            #expect(again?.description.contains("holds it already") == true, "\(String(describing: again))")
            // A task it starts (async let, a task group, Task {}) holds it too.
            let fromChild = await Task { () -> String? in
                do { _ = try await SandboxLock.holding(path: path, wait: .milliseconds(500)) {}; return nil } catch { return "\(error)" }
            }.value
            #expect(fromChild?.contains("holds it already") == true, "\(String(describing: fromChild))")
        }
        try await SandboxLock.acquire(path: path, wait: .seconds(60)).release()
    }

    /// `isHeldHere`: this process's hold counts; another process's does not.
    @Test func heldHereIsThisProcesssHoldOnly() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("lock").path
        try await SandboxLock.holding(path: path, wait: .seconds(60)) { #expect(SandboxLock.isHeldHere(path)) }
        #expect(!SandboxLock.isHeldHere(path))
        let other = try await Self.holdLock(path)
        defer { other.terminate() }
        #expect(!SandboxLock.isHeldHere(path))
    }

    @Test func aFreeLockIsTakenAndReleased() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("lock").path
        let first = try await SandboxLock.acquire(path: path, wait: .zero)
        first.release()
        let second = try await SandboxLock.acquire(path: path, wait: .zero)
        second.release()
    }
}

final class Reports: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
