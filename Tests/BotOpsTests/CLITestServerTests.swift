import Foundation
import Remote
import SandboxSupport
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The built botops against a private sshd of the test's own (TestSSHServer), `--local`, or a
/// usage error before it connects: no part of the shared sandbox host (its sshd, containers,
/// checkout, crontab), so these run in the parallel phase. The sandbox provides only facts: its
/// user's keys for the private sshd, its botops.yml to read.
@Suite(.enabled(if: Sandbox.isAvailable, "needs the sandbox's keys and botops.yml: scripts/sandbox up"))
struct CLITestServerTests {
    let sandbox: Sandbox
    let botops = BuiltBinary.botops.path

    init() throws {
        sandbox = try Sandbox.require()
    }

    @Test func pingWhoseShellFailsExitsOneNotTwo() async throws {
        let server = try await TestSSHServer.start(hostKeys: [.ed25519], options: ["ForceCommand /bin/false"])
        defer { server.stop() }
        let sshConfig = try server.writeSSHConfig(knownHosts: try server.writeKnownHosts([.ed25519]))
        let result = try await BuiltBinary.botops.run(["ping", "--host", "test-sshd", "--ssh-config", sshConfig], prefix: inEmptyDirectory)
        #expect(result.termination == .exited(1), "\(result.stderrText)")
        #expect(result.stderrText.contains("the host's shell is broken"))
    }

    /// An sshd that refuses every session channel while the connection itself stays up: each
    /// check fails with the channel's error, and the run is not reported as unreachable.
    @Test func refusedChannelsFailChecksWithoutMakingTheRunUnreachable() async throws {
        let server = try await TestSSHServer.start(hostKeys: [.ed25519], options: ["MaxSessions 0"])
        defer { server.stop() }
        let sshConfig = try server.writeSSHConfig(knownHosts: try server.writeKnownHosts([.ed25519]))
        let result = try await BuiltBinary.botops.run(["verify", "--config", sandbox.configFile, "--host", "test-sshd", "--ssh-config", sshConfig,
                                                       "--format", "json", "--only", "cron-scheduled,db-running"])
        #expect(result.termination == .exited(1), "\(result.stdoutText)\(result.stderrText)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdoutText.utf8)) as? [String: Any])
        #expect(object["status"] as? String == "fail")
        #expect(!(object["connection_lost"] is String))
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks.allSatisfy { $0["status"] as? String == "fail" && ($0["message"] as? String)?.contains("opening a channel") == true })
    }

    @Test func outputThatCannotBeWrittenIsAUsageErrorBeforeAnythingRuns() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for output in ["/nonexistent/dir/verify.xml", directory.path] {
            // A closed port for its host: were the output not refused first, the checks would not
            // run on the shared host from this parallel phase.
            let result = try await BuiltBinary.botops.run(["verify", "--config", sandbox.configFile, "--host", "bot@127.0.0.1:1",
                                                           "--format", "junit", "--output", output])
            #expect(result.termination == .exited(2), "\(output): \(result.stderrText)")
            #expect(result.stderrText.contains("cannot write the report to \(output)"))
            #expect(result.stdoutText.isEmpty)
        }
    }

    /// A caller that closed botops's stdin (`<&-`): the command gets end-of-file at once. botops
    /// used to give the number 0 to its own first descriptor and forward that as stdin.
    @Test func aClosedStdinReachesTheCommandAsEndOfFile() async throws {
        let exec = shellCommand([botops, "exec", "--local", "--config", sandbox.configFile, "--"])
        let result = try await LocalHost().run("\(exec) 'readlink /proc/$PPID/fd/0; cat; echo closed' <&-", timeout: .seconds(60))
        #expect(result.termination == .exited(0), "\(result.stderrText)")
        #expect(result.stdoutText == "/dev/null\nclosed\n", "\(result.stderrText)")
    }

    @Test func aFrozenHostEndsExecWithExitThreeNamingTheCommand() async throws {
        let server = try await TestSSHServer.start(hostKeys: [.ed25519])
        defer { server.stop() }
        let sshConfig = try server.writeSSHConfig(knownHosts: try server.writeKnownHosts([.ed25519]), extra: ["ServerAliveInterval 1", "ServerAliveCountMax 2"])
        let pidFile = try server.sharedDirectory().appendingPathComponent("ppid").path
        let command = "echo $PPID > \(shellQuote(pidFile)); sleep 60"

        let run = Task {
            try await BuiltBinary.botops.run(["exec", "--host", "test-sshd", "--ssh-config", sshConfig, "--", command], prefix: inEmptyDirectory)
        }
        let session = try TestSSHServer.sessionProcess(try await TestSSHServer.waitForPID(in: pidFile))
        kill(session, SIGSTOP)
        defer {
            kill(session, SIGCONT)
            kill(session, SIGTERM)
        }
        let result = try await run.value
        #expect(result.termination == .exited(3))
        #expect(result.stderrText.contains("connection lost to 127.0.0.1"))
        #expect(result.stderrText.contains("sleep 60"))
    }

    @Test func aChannelClosedWithoutExitStatusIsSaidAndExits255() async throws {
        let server = try await TestSSHServer.start(hostKeys: [.ed25519], options: ["ChannelTimeout session:command=1"])
        defer { server.stop() }
        let sshConfig = try server.writeSSHConfig(knownHosts: try server.writeKnownHosts([.ed25519]))
        let result = try await BuiltBinary.botops.run(["exec", "--host", "test-sshd", "--ssh-config", sshConfig, "--", "sleep 4"], prefix: inEmptyDirectory)
        #expect(result.termination == .exited(255))
        #expect(result.stderrText.contains("no exit status"))
    }
}
