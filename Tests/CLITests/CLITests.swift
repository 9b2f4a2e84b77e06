import Foundation
import Remote
import SandboxSupport
import Testing

/// Runs the binary in / (env -C), where no ./botops.yml is picked up, so --host alone decides.
let inEmptyDirectory = ["env", "-C", "/"]

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
        let result = try await BuiltBinary.botops.run(["ping"], prefix: inEmptyDirectory)
        #expect(result.termination == .exited(2))
        #expect(result.stderrText.contains("pass --config PATH, --host HOST or --local"))
    }

    /// `verify --dry-run` writes no report and notifies no one: with --output or --notify it is a
    /// usage error (exit 2), not a silent exit 0 without the file a script asked for.
    @Test func verifyDryRunRefusesOutputAndNotify() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let report = directory.appendingPathComponent("plan.txt").path
        for extra in [["--output", report], ["--notify"]] {
            let result = try await BuiltBinary.botops.run(["verify", "--dry-run", "--host", "root@no-such-host.invalid"] + extra, prefix: ["unshare", "-n"] + inEmptyDirectory)
            #expect(result.termination == .exited(2), "\(extra): \(result.stdoutText) \(result.stderrText)")
            #expect(result.stderrText.contains("--dry-run"), "\(result.stderrText)")
        }
        #expect(!FileManager.default.fileExists(atPath: report))
    }

    /// `deploy --host-files` has no dry run: with --dry-run it ran the real host-files deploy
    /// (the blackout check skipped, as for a dry run). It is a usage error before any connection.
    @Test func hostFilesDeployRefusesDryRun() async throws {
        let result = try await BuiltBinary.botops.run(["deploy", "--host-files", "--dry-run", "--host", "root@no-such-host.invalid"], prefix: ["unshare", "-n"] + inEmptyDirectory)
        #expect(result.termination == .exited(2), "\(result.stdoutText) \(result.stderrText)")
        #expect(result.stderrText.contains("--host-files has no dry run"), "\(result.stderrText)")
    }

    @Test func unresolvableHostExitsThree() async throws {
        // A private network namespace has no resolver, so the lookup fails here without any traffic.
        let result = try await BuiltBinary.botops.run(["ping", "--host", "root@no-such-host.invalid"], prefix: ["unshare", "-n"] + inEmptyDirectory)
        #expect(result.termination == .exited(3))
        #expect(result.stderrText.contains("cannot resolve host 'no-such-host.invalid'"))
    }

    @Test func connectionRefusedExitsThree() async throws {
        let port = closedLoopbackPort()
        let result = try await BuiltBinary.botops.run(["ping", "--host", "root@127.0.0.1:\(port)"], prefix: inEmptyDirectory)
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
        let result = try await BuiltBinary.botops.run(["verify", "--host", "bot@127.0.0.1:\(port)", "--format", "junit"], prefix: inEmptyDirectory)
        #expect(result.termination == .exited(3))
        #expect(result.stdoutText.isEmpty)
        #expect(result.stderrText.contains("connection refused"))
    }

    @Test func verifyRejectsUnknownCheckIDs() async throws {
        let result = try await BuiltBinary.botops.run(["verify", "--local", "--only", "cron-scheduled,bogus"])
        #expect(result.termination == .exited(2))
        #expect(result.stderrText.contains("unknown check bogus"))
    }

    /// Skipping everything selected used to print a table of skips and exit 0.
    @Test func verifyThatWouldSkipEveryCheckIsAUsageError() async throws {
        for selection in [["--skip", "cron-scheduled,script-executable,queries-present,db-running,db-connectivity,report-generation,report-file,trade-linkage,snapshot-active"],
                          ["--only", "snapshot-active", "--skip", "db-running"]] {
            let result = try await BuiltBinary.botops.run(["verify", "--local"] + selection)
            #expect(result.termination == .exited(2), "\(selection)")
            #expect(result.stdoutText.isEmpty)
            #expect(result.stderrText.contains("--skip leaves nothing to run"))
        }
    }

    /// A bad flag value is echoed in the usage error; an escape sequence in it reached the
    /// terminal as is.
    @Test func usageErrorsShowFlagValuesTerminalSafe() async throws {
        let result = try await BuiltBinary.botops.run(["verify", "--local", "--format", "\u{1B}]0;retitled\u{07}\u{1B}[2Jxml"])
        #expect(result.termination == .exited(2))
        #expect(result.stderrText.contains("xml"))
        #expect(!result.stderrText.contains("\u{1B}"))
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

/// Exit codes as the README's table gives them, each case run through the built binary.
extension CLIUsageTests {
    @Test func configNamedButMissingIsAUsageErrorEvenWithHost() async throws {
        let port = closedLoopbackPort()
        let result = try await BuiltBinary.botops.run(["ping", "--config", "/nonexistent/botops.yml", "--host", "bot@127.0.0.1:\(port)"])
        #expect(result.termination == .exited(2))
        #expect(result.stderrText.contains("/nonexistent/botops.yml: no such file"))
    }

    @Test func unreadableSSHConfigIsAUsageErrorNotAFailedCheck() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A directory where the file should be: it exists but cannot be read as a file.
        let result = try await BuiltBinary.botops.run(["ping", "--host", "bot@127.0.0.1:1", "--ssh-config", directory.path], prefix: inEmptyDirectory)
        #expect(result.termination == .exited(2), "\(result.stderrText)")
        #expect(result.stderrText.contains("cannot read the ssh config \(directory.path)"))
    }

    @Test func timeoutsThatCannotBeWaitedForAreUsageErrors() async throws {
        for value in ["1e300", "inf", "-inf", "nan", "0", "-1", "86401", "9223372036854775807", "", "1s"] {
            for command in [["exec", "--local", "--timeout", value, "--", "true"], ["verify", "--local", "--only", "cron-scheduled", "--timeout", value]] {
                let result = try await BuiltBinary.botops.run(command, prefix: inEmptyDirectory)
                #expect(result.termination == .exited(2), "\(command): \(result.stderrText)")
                #expect(result.stderrText.contains("--timeout"), "\(command)")
            }
        }
    }
}

/// The built binary started in the background, so a test can signal it. Its stderr goes to a
/// file: a pipe's write end can be inherited by processes other tests start meanwhile.
struct RunningBinary {
    let process = Process()
    let output = Pipe()
    let errors: URL

    init(_ arguments: [String]) throws {
        errors = FileManager.default.temporaryDirectory.appendingPathComponent("botops-stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: BuiltBinary.botops.path)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
    }

    /// Reads stdout until `text` has appeared.
    func waitForOutput(_ text: String) -> Bool {
        var seen = ""
        while !seen.contains(text) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return false }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        return true
    }

    func exitStatus() -> (status: Int32, stderr: String) {
        process.waitUntilExit()
        defer { try? FileManager.default.removeItem(at: errors) }
        return (process.terminationStatus, (try? String(contentsOf: errors, encoding: .utf8)) ?? "")
    }
}

extension CLISandboxTests {
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
            let result = try await BuiltBinary.botops.run(["verify", "--config", sandbox.configFile, "--format", "junit", "--output", output])
            #expect(result.termination == .exited(2), "\(output): \(result.stderrText)")
            #expect(result.stderrText.contains("cannot write the report to \(output)"))
            #expect(result.stdoutText.isEmpty)
        }
    }

    @Test func interruptedCommandReleasesAndExitsWith128PlusSignal() async throws {
        for (signal, status) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            let running = try RunningBinary(["exec", "--config", sandbox.configFile, "--", "echo ready; exec sleep 20"])
            #expect(running.waitForOutput("ready"))
            kill(running.process.processIdentifier, signal)
            let (exit, stderr) = running.exitStatus()
            #expect(exit == status, "\(stderr)")
            #expect(stderr.contains("interrupted (\(signal == SIGINT ? "SIGINT" : "SIGTERM"))"))
        }
    }
}
