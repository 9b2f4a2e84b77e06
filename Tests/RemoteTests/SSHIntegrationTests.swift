import Foundation
import Remote
import SandboxSupport
import Testing

/// Against the sandbox's real OpenSSH server (scripts/sandbox up).
@Suite(.enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct SSHIntegrationTests {
    let sandbox: Sandbox

    init() throws {
        sandbox = try Sandbox.require()
    }

    func connect(_ target: SSHTarget? = nil) async throws -> SSHConnection {
        try await SSHConnection.connect(to: try target ?? sandbox.target())
    }

    @Test func exitStatusesAndSignal() async throws {
        let connection = try await connect()
        try await connection.closing {
            let success = try await connection.run("true")
            #expect(success.termination == .exited(0))
            let failure = try await connection.run("false")
            #expect(failure.termination == .exited(1))
            let missing = try await connection.run("no-such-command-botops")
            #expect(missing.termination == .exited(127))
            #expect(missing.stderrText.contains("not found"))
            let killed = try await connection.run("kill -TERM $$")
            #expect(killed.termination == .signaled("TERM"))
        }
    }

    @Test func stderrIsKeptApartFromStdout() async throws {
        let connection = try await connect()
        try await connection.closing {
            let result = try await connection.run("echo to-out; echo to-err >&2; echo more-out")
            #expect(result.stdoutText == "to-out\nmore-out\n")
            #expect(result.stderrText == "to-err\n")
        }
    }

    @Test func twentyMegabytesOnBothStreamsAtOnce() async throws {
        let connection = try await connect()
        try await connection.closing {
            let size = 20_000_000
            let result = try await connection.run(
                "head -c \(size) /dev/zero | tr '\\0' o & head -c \(size) /dev/zero | tr '\\0' e >&2; wait",
                timeout: .seconds(120))
            #expect(result.succeeded)
            #expect(result.stdout.count == size)
            #expect(result.stderr.count == size)
            #expect(result.stdout.allSatisfy { $0 == UInt8(ascii: "o") })
            #expect(result.stderr.allSatisfy { $0 == UInt8(ascii: "e") })
        }
    }

    @Test func thirtyTwoConcurrentCommandsShareOneConnection() async throws {
        // Only this test's part of the sshd log counts: client ports are reused across runs.
        let logOffset = try FileManager.default.attributesOfItem(atPath: sandbox.sshdLog)[.size] as? UInt64 ?? 0
        let connection = try await connect()
        try await connection.closing {
            let results = try await withThrowingTaskGroup(of: (Int, CommandResult).self) { group in
                for index in 0..<32 {
                    group.addTask {
                        (index, try await connection.run("sleep 0.2; echo \(index) $SSH_CONNECTION"))
                    }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            #expect(results.count == 32)
            var clientEndpoints = Set<String>()
            for (index, result) in results {
                let fields = result.stdoutText.split(separator: " ")
                #expect(fields.first == Substring(String(index)))
                clientEndpoints.insert(fields.dropFirst().prefix(2).joined(separator: " "))
            }
            // SSH_CONNECTION is "client-ip client-port server-ip server-port": one client port = one TCP connection.
            #expect(clientEndpoints.count == 1)
            let clientPort = try #require(clientEndpoints.first?.split(separator: " ").last)
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: sandbox.sshdLog))
            try handle.seek(toOffset: logOffset)
            let log = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
            try handle.close()
            let accepted = log.split(separator: "\n").filter { $0.contains("Accepted publickey") && $0.contains("port \(clientPort) ") }
            #expect(accepted.count == 1)
        }
    }

    @Test func unknownHostKeyIsRefusedThenAcceptedWithTheFlag() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let knownHosts = directory.appendingPathComponent("known_hosts").path

        let error = await #expect(throws: RemoteError.self) {
            _ = try await connect(try sandbox.target(knownHostsFile: knownHosts))
        }
        guard case .unknownHostKey(_, let port, let key, _, let recordedTypes) = error else {
            Issue.record("expected unknownHostKey, got \(String(describing: error))")
            return
        }
        #expect(port == sandbox.port)
        #expect(recordedTypes.isEmpty)
        let fingerprint = key.fingerprint
        #expect(fingerprint.hasPrefix("SHA256:"))
        #expect(error?.description.contains("--accept-new-host-key") == true)

        let accepted = try await connect(try sandbox.target(knownHostsFile: knownHosts, policy: .acceptNew))
        #expect(accepted.hostKeyFingerprint == fingerprint)
        await accepted.close()
        let recorded = try String(contentsOfFile: knownHosts, encoding: .utf8)
        #expect(recorded.hasPrefix("[127.0.0.1]:\(sandbox.port) ssh-ed25519 "))

        // Now known: strict checking passes.
        let strict = try await connect(try sandbox.target(knownHostsFile: knownHosts))
        await strict.close()
    }

    /// Holds whether the sandbox offers one host key type or three (`scripts/sandbox up` now sets
    /// up three, with known_hosts written by ssh itself).
    @Test func theKeyTypeKnownHostsHoldsIsTheOneVerified() async throws {
        let recorded = try KnownHosts.load(path: sandbox.knownHosts)
            .recordedKeyTypes(for: KnownHosts.lookupName(host: "127.0.0.1", port: sandbox.port))
        #expect(!recorded.isEmpty)
        let connection = try await connect()
        #expect(recorded.contains(connection.hostKey.type))
        await connection.close()
    }

    @Test func changedHostKeyIsRefusedEvenWithAcceptNew() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let otherKey = directory.appendingPathComponent("other").path
        let generated = try await LocalHost().run(shellCommand(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", otherKey]))
        #expect(generated.succeeded)
        let publicKey = try String(contentsOfFile: otherKey + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        let knownHosts = directory.appendingPathComponent("known_hosts").path
        try "[127.0.0.1]:\(sandbox.port) \(publicKey)\n".write(toFile: knownHosts, atomically: true, encoding: .utf8)

        for policy in [HostKeyPolicy.strict, .acceptNew] {
            let error = await #expect(throws: RemoteError.self) {
                _ = try await connect(try sandbox.target(knownHostsFile: knownHosts, policy: policy))
            }
            guard case .changedHostKey = error else {
                Issue.record("expected changedHostKey, got \(String(describing: error))")
                continue
            }
            #expect(error?.description.contains("ssh-keygen -R") == true)
        }
        #expect(try String(contentsOfFile: knownHosts, encoding: .utf8).split(separator: "\n").count == 1)
    }

    @Test func sshAgentIdentitiesAreTriedFirst() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let socket = directory.appendingPathComponent("agent.sock").path
        let local = LocalHost()
        let started = try await local.run("ssh-agent -a \(shellQuote(socket)) -s")
        #expect(started.succeeded)
        let pid = try #require(started.stdoutText.firstMatch(of: /SSH_AGENT_PID=(\d+)/)?.output.1)
        defer { kill(pid_t(String(pid))!, SIGTERM) }
        let added = try await local.run("SSH_AUTH_SOCK=\(shellQuote(socket)) ssh-add -q \(shellQuote(sandbox.key))")
        #expect(added.succeeded, "\(added.stderrText)")

        // No key file at all: only the agent can get us in.
        let connection = try await connect(try sandbox.target(identityFiles: [], agentSocket: socket))
        let result = try await connection.run("echo via-agent")
        await connection.close()
        #expect(result.stdoutText == "via-agent\n")
    }

    @Test func rsaKeyIsRefusedWithTheSHA1Explanation() async throws {
        let error = await #expect(throws: RemoteError.self) {
            _ = try await connect(try sandbox.target(identityFiles: [sandbox.rsaKey]))
        }
        guard case .authenticationFailed(_, _, _, let refusedRSA) = error else {
            Issue.record("expected authenticationFailed, got \(String(describing: error))")
            return
        }
        #expect(refusedRSA == [sandbox.rsaKey])
        let message = error?.description ?? ""
        #expect(message.contains("SHA-1"))
        #expect(message.contains("ed25519"))
    }

    @Test func commandTimeoutFiresAndTheConnectionStaysUsable() async throws {
        let connection = try await connect()
        try await connection.closing {
            // No wall-time bound: had the timeout not fired, `sleep 30` would have succeeded.
            let error = await #expect(throws: RemoteError.self) {
                _ = try await connection.run("sleep 30", timeout: .milliseconds(300))
            }
            guard case .commandTimedOut = error else {
                Issue.record("expected commandTimedOut, got \(String(describing: error))")
                return
            }
            let after = try await connection.run("echo still-here")
            #expect(after.stdoutText == "still-here\n")
        }
    }

    /// The host's processes whose command line matches `pattern` (written so that it does not
    /// match itself, `[d]ocker …`), polled for up to 5 s until there are none.
    func leftOnHost(_ pattern: String, _ connection: SSHConnection) async throws -> String {
        var left = ""
        for _ in 0..<50 {
            left = try await connection.run("pgrep -af \(shellQuote(pattern)) || true").stdoutText
            if left.isEmpty { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return left
    }

    /// A `docker exec` into a container paused under it hangs until the container is unpaused.
    /// Closing the timed-out command's channel alone left it on the host (orphaned to init),
    /// with the shell and pipeline around it.
    @Test func aTimedOutCommandIsKilledOnTheHostWithEverythingItStarted() async throws {
        let connection = try await connect()
        try await connection.closing {
            let container = "botops-paused-\(UUID().uuidString.prefix(8).lowercased())"
            let started = try await connection.run("docker run -d --name \(container) --network none --entrypoint sh botops-base:bookworm -c 'sleep 600'")
            try #require(started.succeeded, "\(started.stderrText)")
            // Unpaused and removed whatever happens below.
            var cleanup: CommandResult?
            do {
                let error = await #expect(throws: RemoteError.self) {
                    _ = try await connection.run(
                        "docker exec \(container) sh -c 'echo started; exec sleep 600' | { read -r line; docker pause \(container) >/dev/null; cat; }",
                        timeout: .seconds(5))
                }
                guard case .commandTimedOut = error else {
                    Issue.record("expected commandTimedOut, got \(String(describing: error))")
                    throw error ?? CancellationError()
                }
                // The kill travels on its own channel: give it a moment.
                let left = try await leftOnHost("[d]ocker exec \(container)", connection)
                #expect(left.isEmpty, "left running on the host: \(left)")
            } catch {
                cleanup = try? await connection.run("docker unpause \(container); docker rm -f \(container)")
                throw error
            }
            cleanup = try await connection.run("docker unpause \(container) >/dev/null; docker rm -f \(container)")
            #expect(cleanup?.succeeded == true, "\(cleanup?.stderrText ?? "")")
        }
    }

    /// As `botops exec --timeout` does: the command times out and the connection is closed at
    /// once. The kill still reaches the host (the close gives it a moment).
    @Test func aCommandThatTimedOutJustBeforeTheCloseIsStillKilled() async throws {
        let token = "botops-close-\(UUID().uuidString.prefix(8).lowercased())"
        let connection = try await connect()
        await #expect(throws: RemoteError.self) {
            _ = try await connection.run("sleep 600 & echo \(token) >/dev/null; wait", timeout: .seconds(1))
        }
        await connection.close()
        let checker = try await connect()
        try await checker.closing {
            let pattern = "[s]leep 600 & echo \(token)"
            let left = try await leftOnHost(pattern, checker)
            #expect(left.isEmpty, "left running on the host: \(left)")
            _ = try? await checker.run("pkill -KILL -f \(shellQuote(pattern))")
        }
    }

    @Test func streamingDeliversOutputBeforeTheCommandEnds() async throws {
        let connection = try await connect()
        try await connection.closing {
            // The command ends only after the test saw its first output (no wall-time bound): output
            // held back until the end would leave it waiting until its timeout.
            let marker = "/tmp/botops-stream-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: marker) }
            let command = "echo early; while [ ! -e \(shellQuote(marker)) ]; do sleep 0.05; done; echo late"
            let termination = try await connection.stream(command, timeout: .seconds(60), input: .none) { _, bytes in
                if !bytes.isEmpty { FileManager.default.createFile(atPath: marker, contents: nil) }
            }
            #expect(termination == .exited(0))
        }
    }

    @Test func connectionRefusedIsNamed() async throws {
        var target = try sandbox.target()
        target.port = closedLoopbackPort()
        let error = await #expect(throws: RemoteError.self) { _ = try await connect(target) }
        #expect(error == .connectionRefused(host: "127.0.0.1", port: target.port))
    }

    @Test func silentServerHitsTheConnectTimeout() async throws {
        let server = try BannerServer(banner: "")
        var target = try sandbox.target()
        target.port = server.port
        target.connectTimeout = 0.5
        // The error names the 0.5 s limit that ended the wait (a silent server never answers otherwise).
        let error = await #expect(throws: RemoteError.self) { _ = try await connect(target) }
        #expect(error == .connectTimedOut(host: "127.0.0.1", port: server.port, seconds: 0.5))
    }

    @Test func wrongPortIsNamedAsNotSSH() async throws {
        let server = try BannerServer(banner: "HTTP/1.1 400 Bad Request\r\n\r\n")
        var target = try sandbox.target()
        target.port = server.port
        let error = await #expect(throws: RemoteError.self) { _ = try await connect(target) }
        guard case .notSSHServer(_, let port, _) = error else {
            Issue.record("expected notSSHServer, got \(String(describing: error))")
            return
        }
        #expect(port == server.port)
    }
}
