import Foundation
import Remote
import SandboxSupport
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Faults done for real against a private sshd: a frozen session (SIGSTOP), a killed one, and an
/// sshd that closes a command's channel without an exit status (its ChannelTimeout).
@Suite(.enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct TransportFaultTests {
    /// Short keepalives so a dead host shows within seconds: 2 s (libssh2's shortest) × (2 + 1).
    static let fastKeepalive = ["ServerAliveInterval 1", "ServerAliveCountMax 2"]

    func connect(_ server: TestSSHServer, extra: [String] = fastKeepalive) async throws -> SSHConnection {
        return try await SSHConnection.connect(to: try server.target(knownHosts: try server.writeKnownHosts([.ed25519]), extra: extra))
    }

    @Test func aFrozenHostIsLostWithTheCommandsInFlight() async throws {
        let server = try await TestSSHServer.start(hostKeys: [.ed25519])
        defer { server.stop() }
        let connection = try await connect(server)
        let session = SessionProcess()
        defer { session.release() }

        let clock = ContinuousClock()
        async let first = outcome {
            try await connection.stream("echo $PPID; sleep 30", timeout: .seconds(25), input: .none) { _, bytes in
                session.freeze(reportedBy: bytes)
            }
        }
        async let second = outcome { try await connection.run("sleep 30", timeout: .seconds(25)).termination }
        let outcomes = await [first, second]
        #expect(session.wasFrozen)
        for outcome in outcomes {
            guard case .failure(RemoteError.connectionLost(_, let detail, let commands)) = outcome else {
                Issue.record("expected connectionLost, got \(outcome)")
                continue
            }
            #expect(detail.contains("ServerAliveInterval 1"))
            #expect(Set(commands) == ["echo $PPID; sleep 30", "sleep 30"])
        }
        // No wall-time bound on the detection: the commands' 25 s timeout would have ended them as
        // commandTimedOut, not connectionLost naming the keepalive.
        let closing = clock.now
        await connection.close()
        // Loose: close() of a lost connection returns, it does not wait on the host.
        #expect(clock.now - closing <= .seconds(5))
        let after = await outcome { try await connection.run("true").termination }
        guard case .failure(RemoteError.connectionLost) = after else {
            Issue.record("a lost connection must refuse new commands, got \(after)")
            return
        }
    }

    @Test func closeNeverWaitsOnAFrozenHost() async throws {
        let server = try await TestSSHServer.start(hostKeys: [.ed25519])
        defer { server.stop() }
        // Keepalives off: nothing but close() itself can end the wait.
        let connection = try await connect(server, extra: ["ServerAliveInterval 0"])
        let session = SessionProcess()
        defer { session.release() }

        let running = Task {
            await outcome {
                try await connection.stream("echo $PPID; sleep 30", timeout: .seconds(25), input: .none) { _, bytes in
                    session.freeze(reportedBy: bytes)
                }
            }
        }
        while !session.wasFrozen { try await Task.sleep(for: .milliseconds(20)) }
        // Waiting on the frozen host would end in the command's 25 s timeout (a timedOut error):
        // closedWhileRunning below shows close() ended it, with no wall-time bound to flake.
        await connection.close()
        guard case .failure(RemoteError.closedWhileRunning(_, let command)) = await running.value else {
            Issue.record("expected closedWhileRunning, got \(await running.value)")
            return
        }
        #expect(command == "echo $PPID; sleep 30")
    }

    @Test func aChannelClosedWithoutExitStatusIsNotExitZero() async throws {
        // sshd closes a command channel idle this long without sending an exit status. Long enough
        // that `exit 7` is never idle that long while it starts on a loaded machine (at 1 s, it was
        // once: CI's parallel phase saw it dropped too).
        let server = try await TestSSHServer.start(hostKeys: [.ed25519], options: ["ChannelTimeout session:command=5"])
        defer { server.stop() }
        let connection = try await connect(server)
        try await connection.closing {
            let dropped = try await connection.run("sleep 15", timeout: .seconds(60))
            #expect(dropped.termination == .noExitStatus)
            #expect(!dropped.succeeded)
            #expect(dropped.termination.shellStatus == 255)
            // Real statuses on the same server are still told apart from "none".
            #expect(try await connection.run("exit 0").termination == .exited(0))
            #expect(try await connection.run("exit 7").termination == .exited(7))
        }
    }

    @Test func aSessionKilledAfterItsOutputClosedIsLostNotExitZero() async throws {
        let server = try await TestSSHServer.start(hostKeys: [.ed25519])
        defer { server.stop() }
        let shared = try server.sharedDirectory()
        let pidFile = shared.appendingPathComponent("ppid").path
        let connection = try await connect(server)
        async let ending = outcome {
            // Output closes at once (the host sends end-of-output); the command runs on.
            try await connection.run("exec >/dev/null 2>&1; echo $PPID > \(shellQuote(pidFile)); sleep 30", timeout: .seconds(25)).termination
        }
        let pid = try await TestSSHServer.waitForPID(in: pidFile)
        kill(try TestSSHServer.sessionProcess(pid), SIGKILL)
        guard case .failure(RemoteError.connectionLost) = await ending else {
            Issue.record("expected connectionLost, got \(await ending)")
            return
        }
        await connection.close()
    }

    @Test func stdinIsForwardedThenEndOfFile() async throws {
        let server = try await TestSSHServer.start(hostKeys: [.ed25519])
        defer { server.stop() }
        let connection = try await connect(server)
        try await connection.closing {
            // Several times the channel window, so it has to flow as the command reads it.
            let data = (0..<12_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
            let input = try InputPipe(data)
            let echoed = try await connection.run("cat", timeout: .seconds(60), input: .fileDescriptor(input.readEnd))
            #expect(echoed.succeeded)
            #expect(echoed.stdout.count == data.count)
            #expect(echoed.stdout == data)

            let empty = try await connection.run("cat; echo end", timeout: .seconds(10))
            #expect(empty.stdoutText == "end\n")
        }
    }

    @Test func cancellingTheCallerAbandonsTheCommand() async throws {
        let server = try await TestSSHServer.start(hostKeys: [.ed25519])
        defer { server.stop() }
        let connection = try await connect(server)
        try await connection.closing {
            let task = Task { try await connection.run("sleep 30", timeout: .seconds(25)) }
            try await Task.sleep(for: .milliseconds(300))
            task.cancel()
            await #expect(throws: CancellationError.self) { _ = try await task.value }
            #expect(try await connection.run("echo still-here").stdoutText == "still-here\n")
        }
    }
}

/// Runs `body` and keeps its outcome, success or error, for inspection.
func outcome<T: Sendable>(_ body: () async throws -> T) async -> Result<T, Error> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}

/// The sshd process serving a test's session: frozen once its pid arrives in the command's output,
/// resumed (and ended) when the test is done, pass or fail.
final class SessionProcess: @unchecked Sendable {
    private let lock = NSLock()
    private var pid: pid_t?

    var wasFrozen: Bool { lock.withLock { pid != nil } }

    /// `bytes` is the command's first output: its $PPID, the sshd session process.
    func freeze(reportedBy bytes: [UInt8]) {
        lock.withLock {
            guard pid == nil, let reported = pid_t(String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
                  let session = try? TestSSHServer.sessionProcess(reported) else { return }
            kill(session, SIGSTOP)
            pid = session
        }
    }

    func release() {
        lock.withLock {
            guard let pid else { return }
            kill(pid, SIGCONT)
            kill(pid, SIGTERM)
        }
    }
}
