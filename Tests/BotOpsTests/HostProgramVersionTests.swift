@testable import BotOpsKit
import Foundation
import HostCommands
import Remote
import Testing

/// `~/botops/bin/botops --version` on the host is one probe: install-host runs it alone, status
/// as a section of its one command, and both read it with one parser. Run here by this machine's
/// /bin/sh with HOME a directory of the test's own.
@Suite struct HostProgramVersionTests {
    /// A home with `botops` (a script's text) as ~/botops/bin/botops. Written by a shell of its
    /// own: a file this process had open for writing could be inherited by a parallel test's
    /// fork and fail to run (ETXTBSY).
    func home(_ botops: String?, mode: String = "755") async throws -> URL {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("botops-version-\(UUID().uuidString)")
        let bin = home.appendingPathComponent("botops/bin").path
        var script = shellCommand(["mkdir", "-p", bin])
        if let botops {
            let path = home.appendingPathComponent(HostInstall.binaryPath).path
            script += " && printf '%s' \(shellQuote(botops)) > \(shellQuote(path)) && chmod \(mode) \(shellQuote(path))"
        }
        let made = try await LocalHost().run(script)
        try #require(made.succeeded, "\(made.stderrText)")
        return home
    }

    /// `script` run with HOME set to `home` (and PATH to `path`).
    func run(_ script: ShellScript, home: URL, path: String? = nil) async throws -> CommandResult {
        try await LocalHost().run("HOME=\(shellQuote(home.path)); export HOME\n" + (path.map { "PATH=\(shellQuote($0))\n" } ?? "") + script.text)
    }

    func probed(_ home: URL) async throws -> HostProgramVersion {
        let probe = HostProgramVersion.probe(HostInstall.binaryPath)
        return try probe.parse(try await run(probe.command.script, home: home))
    }

    @Test func installedMissingAndFailingAreToldApart() async throws {
        let installed = try await home("#!/bin/sh\necho '0.16.0 (d419ea56ea8a)'\n")
        let missing = try await home(nil)
        let notExecutable = try await home("#!/bin/sh\necho 1\n", mode: "644")
        let failing = try await home("#!/bin/sh\necho 'loading libssh2.so.1 failed' >&2\nexit 127\n")
        defer { for home in [installed, missing, notExecutable, failing] { try? FileManager.default.removeItem(at: home) } }

        #expect(try await probed(installed) == .version("0.16.0 (d419ea56ea8a)"))
        #expect(try await probed(missing) == .notInstalled)
        #expect(try await probed(notExecutable) == .notInstalled)
        #expect(try await probed(failing) == .failed(status: 127, output: "loading libssh2.so.1 failed"))
    }

    /// status' command holds the same probe as a section: the host's botops as status shows it,
    /// a failing one named as failing (so it differs from this one), not shown as a version.
    @Test func statusReadsTheSameProbeAsASection() async throws {
        var config = try BotOpsConfig.parse("host: h\n", file: "botops.yml")
        config.path = "/nonexistent"
        let extras = StatusExtras(config: config)
        let command = extras.command(timeout: .seconds(30))
        #expect(command.script.text.contains(HostProgramVersion.script(HostInstall.binaryPath).text))

        let installed = try await home("#!/bin/sh\necho '0.16.0 (d419ea56ea8a)'\n")
        let failing = try await home("#!/bin/sh\necho 'loading libssh2.so.1 failed' >&2\nexit 127\n")
        let missing = try await home(nil)
        defer { for home in [installed, failing, missing] { try? FileManager.default.removeItem(at: home) } }
        #expect(extras.parse(try await run(command.script, home: installed).stdoutText, localNow: 0).hostVersion == .runs("0.16.0 (d419ea56ea8a)"))
        #expect(extras.parse(try await run(command.script, home: failing).stdoutText, localNow: 0).hostVersion == .runs("fails (exit 127): loading libssh2.so.1 failed"))
        #expect(extras.parse(try await run(command.script, home: missing).stdoutText, localNow: 0).hostVersion == .notInstalled)
    }

    /// A host binary that hangs is stopped by `--version`'s own time limit and shown as failing
    /// so, instead of hanging status and install-host (here with a limit of 1 s).
    @Test func aHungHostBinaryTimesOut() async throws {
        let hung = try await home("#!/bin/sh\nsleep 30\n")
        defer { try? FileManager.default.removeItem(at: hung) }
        let script = HostProgramVersion.script(HostInstall.binaryPath, timeLimit: 1)
        let lines = try await run(script, home: hung).stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let version = try HostProgramVersion.parse(lines, timeLimit: 1)
        #expect(version == .timedOut(seconds: 1), "\(lines)")
        // timeout(1) ends with 124: status shows the host's limit.
        #expect(StatusExtras.shown(["version": ["124", ""]]) == .runs("fails: timed out after 10 s"))
    }

    /// A `timeout` that does not work as coreutils' does (BusyBox before 1.30 reads
    /// `timeout 10 PROG` as running `10`) is not used: a good binary is not shown as failing.
    @Test func aTimeoutOfAnotherSyntaxIsNotUsed() async throws {
        let installed = try await home("#!/bin/sh\necho '0.16.0 (d419ea56ea8a)'\n")
        defer { try? FileManager.default.removeItem(at: installed) }
        let bin = installed.appendingPathComponent("fake-bin").path
        // Old BusyBox: `timeout [-t SECS] [-s SIG] PROG ARGS`.
        let timeout = "#!/bin/sh\nwhile :; do case $1 in -t|-s) shift 2;; -*) echo \"timeout: invalid option -- ${1#-}\" >&2; exit 1;; *) break;; esac; done\nexec \"$@\"\n"
        let made = try await LocalHost().run("mkdir -p \(shellQuote(bin)) && printf '%s' \(shellQuote(timeout)) > \(shellQuote(bin))/timeout && chmod 755 \(shellQuote(bin))/timeout")
        try #require(made.succeeded, "\(made.stderrText)")
        let output = try await run(HostProgramVersion.script(HostInstall.binaryPath), home: installed, path: bin + ":/usr/bin:/bin").stdoutText
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(try HostProgramVersion.parse(lines) == .version("0.16.0 (d419ea56ea8a)"), "\(output)")
        #expect(HostProgramVersion.ranWithoutTimeLimit(sections: ["version": lines]), "\(output)")
    }

    /// A binary that exits 124 itself fails with its own status and words, not as timed out (124
    /// is also timeout's status when it stopped the program).
    @Test func aBinaryThatExits124ItselfIsNotTimedOut() async throws {
        let failing = try await home("#!/bin/sh\necho 'disk full' >&2\nexit 124\n")
        defer { try? FileManager.default.removeItem(at: failing) }
        #expect(try await probed(failing) == .failed(status: 124, output: "disk full"))
    }

    /// A hung binary that ignores SIGTERM is killed all the same (`-k`), and the shell around it
    /// does not leave it holding the output open: status and install-host get their answer.
    @Test(.timeLimit(.minutes(1))) func aHungBinaryThatIgnoresSigtermIsKilled() async throws {
        let hung = try await home("#!/bin/sh\ntrap '' TERM\nsleep 300\n")
        defer { try? FileManager.default.removeItem(at: hung) }
        let script = HostProgramVersion.script(HostInstall.binaryPath, timeLimit: 1)
        let lines = try await run(script, home: hung).stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(try HostProgramVersion.parse(lines, timeLimit: 1) == .timedOut(seconds: 1), "\(lines)")
    }

    /// Without a `timeout` on the host, `--version` runs without a time limit, and status says so.
    @Test func withoutTimeoutItRunsUnlimitedAndSaysSo() async throws {
        var config = try BotOpsConfig.parse("host: h\n", file: "botops.yml")
        config.path = "/nonexistent"
        let extras = StatusExtras(config: config)
        let installed = try await home("#!/bin/sh\necho '0.16.0 (d419ea56ea8a)'\n")
        defer { try? FileManager.default.removeItem(at: installed) }
        let output = try await run(HostProgramVersion.section(extras.marker, HostInstall.binaryPath), home: installed, path: "/nonexistent").stdoutText
        let facts = extras.parse(output, localNow: 0)
        #expect(facts.hostVersion == .runs("0.16.0 (d419ea56ea8a)") && facts.hostVersionUnlimited, "\(output)")
        let text = StatusText(colour: false).render(StatusVersionsTests().status(local: "0.16.0 (d419ea56ea8a)", host: facts.hostVersion, unlimited: true))
        #expect(text.contains("host 0.16.0 (d419ea56ea8a) (its --version ran without a time limit: the host has no timeout command)"))
    }

    /// A version section status cannot read is "unknown", never "not installed" (which sends the
    /// operator to install what is there).
    @Test func anUnreadableVersionSectionIsUnknownNotNotInstalled() throws {
        var config = try BotOpsConfig.parse("host: h\n", file: "botops.yml")
        config.path = "/nonexistent"
        let extras = StatusExtras(config: config)
        let m = extras.marker.text
        for output in ["\(m) now\n5\n\(m) end\n", "\(m) now\n5\n\(m) version\nsh: 1: syntax error\n\(m) end\n"] {
            let facts = extras.parse(output, localNow: 7)
            guard case .unknown = facts.hostVersion else {
                Issue.record("\(facts.hostVersion) from \(output)")
                continue
            }
            let status = StatusVersionsTests().status(local: "0.16.0", host: facts.hostVersion)
            let text = StatusText(colour: false).render(status)
            #expect(text.contains("host unknown: its --version could not be read") && !text.contains("not installed") && !text.contains("differs"), "\(text)")
            #expect(status.botops.same == nil)
        }
    }
}
