import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Remote
import SandboxSupport
import Testing

/// scripts/demo holds the sandbox lock on fd 9 while it runs `scripts/sandbox up`; a daemon that
/// up starts must not inherit that descriptor, or the lock outlives the demo and the test suite
/// waits on it forever. `scripts/sandbox daemons` runs the same start functions as up (up itself
/// also runs `swift build`, which would wait for this `swift test`). Changes the shared host
/// (restarts cron): a sandbox suite, run alone.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct SandboxDaemonTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/sandbox").path

    @Test func daemonsStartedByUpDoNotInheritTheCallersLock() async throws {
        let lock = try await SandboxLock.acquire()
        defer { lock.release() }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let held = directory.appendingPathComponent("held.lock").path

        // cron is the daemon that can start again without disturbing anyone (its users take this
        // lock): stop it, so that its start runs from a shell that holds a lock on fd 9.
        for signal in [SIGTERM, SIGKILL] {
            for pid in Self.processes(named: "cron") { kill(pid, signal) }
            for _ in 0..<100 where !Self.processes(named: "cron").isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(Self.processes(named: "cron").isEmpty, "cron did not stop")

        // LocalHost: default signal mask and dispositions, as from a login shell (a child of this
        // test process would otherwise inherit its blocked SIGTERM).
        let started = try await LocalHost().run(
            "exec 9>>\(shellQuote(held)) && flock 9 && \(shellQuote(Self.script)) daemons", timeout: .seconds(300))
        #expect(started.succeeded, "scripts/sandbox daemons failed: \(started.stderrText.suffix(2000))")
        #expect(!Self.processes(named: "cron").isEmpty, "scripts/sandbox daemons did not start cron again")
        let holders = SandboxLock.holders(of: held)
        #expect(holders.isEmpty, "still holding the caller's lock after it exited: \(holders.map { "pid \($0.pid) (\($0.command))" })")
    }

    /// Pids of the processes whose command name is `name` (/proc/PID/comm).
    static func processes(named name: String) -> [pid_t] {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return pids.compactMap(pid_t.init).filter { pid in
            (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .newlines) == name
        }
    }

}
