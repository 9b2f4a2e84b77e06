import Foundation
import Remote
import SandboxSupport
import Testing

/// The botops binary's usage and early errors: no host is reached (parallel-safe).
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
