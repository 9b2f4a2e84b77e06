import Foundation
import Remote
import SandboxSupport
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `botops exec` as a user runs it in a shell: stdin, a host that freezes, a channel that closes
/// without an exit status.
@Suite(.holdingTheSandboxLock, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct ExecTransportTests {
    let sandbox: Sandbox
    let botops = BuiltBinary.botops.path

    init() throws {
        sandbox = try Sandbox.require()
    }

    @Test(arguments: [false, true])
    func stdinIsForwardedThenEndOfFile(local: Bool) async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let exec = shellCommand([botops, "exec"] + (local ? ["--local"] : ["--config", sandbox.configFile]) + ["--"])
        let input = directory.appendingPathComponent("in").path
        let output = directory.appendingPathComponent("out").path
        let script = """
            head -c 3000000 /dev/urandom > \(shellQuote(input))
            \(exec) cat < \(shellQuote(input)) > \(shellQuote(output)) || exit 10
            cmp \(shellQuote(input)) \(shellQuote(output)) || exit 11
            printf 'one\\ntwo\\n' | \(exec) wc -l || echo "wc: exit $?"
            \(exec) 'cat; echo at-eof' < /dev/null || echo "at-eof: exit $?"
            \(exec) 'cat; echo closed' <&- || echo "closed: exit $?"
            """
        let result = try await LocalHost().run(script, timeout: .seconds(60))
        #expect(result.termination == .exited(0), "\(result.stderrText)")
        #expect(result.stdoutText.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) } == ["2", "at-eof", "closed"],
                "\(result.stderrText)")
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
