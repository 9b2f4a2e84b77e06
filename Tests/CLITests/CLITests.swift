import Foundation
import Remote
import SandboxSupport
import Testing

@Suite struct CLIUsageTests {
    @Test func helpListsTheCommands() async throws {
        let result = try await BuiltBinary.botops.run(["--help"])
        #expect(result.termination == .exited(0))
        #expect(result.stdoutText.contains("ping"))
        #expect(result.stdoutText.contains("exec"))
    }

    @Test func configErrorExitsTwoWithFileAndLine() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("botops.yml").path
        try "host: h\nservise: [sighook]\n".write(toFile: config, atomically: true, encoding: .utf8)
        let result = try await BuiltBinary.botops.run(["ping", "--config", config])
        #expect(result.termination == .exited(2))
        #expect(result.stderrText.contains("\(config):2: key 'servise': unknown key"))
    }

    @Test func missingConfigWithoutHostIsAUsageError() async throws {
        let result = try await BuiltBinary.botops.run(["ping", "--config", "/nonexistent/botops.yml"])
        #expect(result.termination == .exited(2))
        #expect(result.stderrText.contains("--host"))
    }

    @Test func unresolvableHostExitsThree() async throws {
        // A private network namespace has no resolver, so the lookup fails here without any traffic.
        let result = try await BuiltBinary.botops.run(["ping", "--host", "root@no-such-host.invalid", "--config", "/nonexistent"], prefix: ["unshare", "-n"])
        #expect(result.termination == .exited(3))
        #expect(result.stderrText.contains("cannot resolve host 'no-such-host.invalid'"))
    }

    @Test func connectionRefusedExitsThree() async throws {
        let port = closedLoopbackPort()
        let result = try await BuiltBinary.botops.run(["ping", "--host", "root@127.0.0.1:\(port)", "--config", "/nonexistent"])
        #expect(result.termination == .exited(3))
        #expect(result.stderrText.contains("connection refused by 127.0.0.1:\(port)"))
        #expect(result.stdoutText.isEmpty)
    }

    @Test func execLocalPassesStatusAndStreams() async throws {
        let result = try await BuiltBinary.botops.run(["exec", "--local", "--", "echo out; echo err >&2; exit 7"])
        #expect(result.termination == .exited(7))
        #expect(result.stdoutText == "out\n")
        #expect(result.stderrText == "err\n")
    }
}

@Suite(.enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct CLISandboxTests {
    let sandbox: Sandbox

    init() throws {
        sandbox = try Sandbox.require()
    }

    @Test func pingPrintsDestinationFingerprintAndTimings() async throws {
        let result = try await BuiltBinary.botops.run(["ping", "--config", sandbox.configFile])
        #expect(result.termination == .exited(0), "\(result.stderrText)")
        let line = result.stdoutText
        #expect(line.hasPrefix("\(sandbox.value("SANDBOX_USER"))@127.0.0.1:\(sandbox.port)  host key SHA256:"))
        #expect(line.contains("connect "))
        #expect(line.contains("round trip "))
    }

    @Test func execStreamsBothStreamsAndExitsWithTheRemoteStatus() async throws {
        let result = try await BuiltBinary.botops.run(["exec", "--config", sandbox.configFile, "--", "echo out; echo err >&2; exit 7"])
        #expect(result.termination == .exited(7))
        #expect(result.stdoutText == "out\n")
        #expect(result.stderrText == "err\n")
    }

    @Test func execQuotesEachArgumentOfAVector() async throws {
        let result = try await BuiltBinary.botops.run(["exec", "--config", sandbox.configFile, "--", "printf", "<%s>", "a b", "$(id)", "it's"])
        #expect(result.termination == .exited(0))
        #expect(result.stdoutText == "<a b><$(id)><it's>")
    }

    @Test func execReportsSignalAsShellStatus() async throws {
        let result = try await BuiltBinary.botops.run(["exec", "--config", sandbox.configFile, "--", "kill -KILL $$"])
        #expect(result.termination == .exited(137))
    }

    @Test func unknownHostKeyRefusedThenAcceptedByFlag() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sshConfig = directory.appendingPathComponent("ssh_config").path
        let knownHosts = directory.appendingPathComponent("known_hosts").path
        let original = try String(contentsOfFile: sandbox.sshConfig, encoding: .utf8)
        try original.replacing(sandbox.knownHosts, with: knownHosts).write(toFile: sshConfig, atomically: true, encoding: .utf8)
        let arguments = ["ping", "--config", sandbox.configFile, "--ssh-config", sshConfig]

        let refused = try await BuiltBinary.botops.run(arguments)
        #expect(refused.termination == .exited(3))
        #expect(refused.stderrText.contains("is not known ("))
        #expect(refused.stderrText.contains("key SHA256:"))
        let accepted = try await BuiltBinary.botops.run(arguments + ["--accept-new-host-key"])
        #expect(accepted.termination == .exited(0), "\(accepted.stderrText)")
        let again = try await BuiltBinary.botops.run(arguments)
        #expect(again.termination == .exited(0))
    }
}

extension CLIUsageTests {
    @Test func verifyAgainstAnUnreachableHostExitsThreeWithoutATable() async throws {
        let port = closedLoopbackPort()
        let result = try await BuiltBinary.botops.run(["verify", "--host", "bot@127.0.0.1:\(port)", "--config", "/nonexistent", "--format", "junit"])
        #expect(result.termination == .exited(3))
        #expect(result.stdoutText.isEmpty)
        #expect(result.stderrText.contains("connection refused"))
    }

    @Test func verifyRejectsUnknownCheckIDs() async throws {
        let result = try await BuiltBinary.botops.run(["verify", "--local", "--only", "cron-scheduled,bogus"])
        #expect(result.termination == .exited(2))
        #expect(result.stderrText.contains("unknown check bogus"))
    }
}

extension CLISandboxTests {
    /// The sandbox offers both compose spellings (v2 through a forwarding plugin), as botops must support both.
    @Test func bothComposeSpellingsSeeTheSameStack() async throws {
        var services: [String] = []
        for compose in ["docker compose", "docker-compose"] {
            let result = try await BuiltBinary.botops.run(["exec", "--config", sandbox.configFile, "--",
                                                           "cd \(shellQuote(sandbox.app)) && \(compose) -f docker-compose.aws.yml ps --services"])
            #expect(result.termination == .exited(0), "\(compose): \(result.stderrText)")
            services.append(result.stdoutText)
        }
        #expect(services[0] == services[1])
        #expect(Set(services[0].split(separator: "\n")) == ["db", "sighook", "webhook", "report-job"])
    }
}
