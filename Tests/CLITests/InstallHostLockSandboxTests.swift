@testable import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// Two install-hosts at once, and `--format json`, against the sandbox host (same suite as
/// InstallHostSandboxTests: one at a time, ~bot/botops put back after each).
extension InstallHostSandboxTests {
    static func sha256(_ path: String) async throws -> String {
        String(try await LocalHost().run(shellCommand(["sha256sum", "--", path])).stdoutText.prefix(64))
    }

    static func object(_ text: String) throws -> [String: Any] {
        let lines = text.split(separator: "\n")
        try #require(lines.count == 1, "not one line of JSON: \(text)")
        return try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any], "\(text)")
    }

    /// Stops `running` (SIGSTOP) once its upload's part is on the host, so it surely runs, mid-upload,
    /// while the test goes on; the caller continues it and waits for it.
    static func stopMidUpload(_ running: RunningBinary, host: SSHConnection) async throws {
        for _ in 0..<2000 {
            if try await host.run("ls -A botops/bin 2>/dev/null").stdoutText.contains(".botops-upload.") {
                kill(running.process.processIdentifier, SIGSTOP)
                return
            }
        }
        try #require(Bool(false), "the install-host's upload never appeared on the host")
    }

    /// The first install-host is stopped (SIGSTOP) while its binary is on its way, so the second
    /// surely starts while the first runs: the second is refused (exit 4, the first named, JSON
    /// with its exit code) and copies nothing; the first then completes, its binary in place whole
    /// (the host's sha256 equal to the local file's), its JSON naming what it installed.
    @Test func aSecondInstallHostWhileOneRunsIsRefusedNamingItAndTheFirstCompletesWhole() async throws {
        let binary = try await Self.releaseBinary()
        let local = try operatorDirectory()
        defer { try? FileManager.default.removeItem(at: local) }
        let config = local.appendingPathComponent("botops.yml").path
        let expected = try await Self.sha256(binary)
        try await withoutHostBotops { host in
            let first = try RunningBinary(["install-host", "--config", config, "--binary", binary, "--format", "json"])
            let pid = first.process.processIdentifier
            // Never left running past this test (and the sandbox lock): continued, and waited for.
            defer { kill(pid, SIGCONT); first.process.waitUntilExit() }
            try await Self.stopMidUpload(first, host: host)

            let second = try await BuiltBinary.botops.run(["install-host", "--config", config, "--binary", binary, "--format", "json"])
            kill(pid, SIGCONT)
            let firstOutput = first.output.fileHandleForReading.readDataToEndOfFile()
            let (exit, stderr) = first.exitStatus()

            #expect(second.termination == .exited(4), "\(second.stderrText)")
            #expect(second.stderrText.contains("(pid \(pid)): botops install-host"), "\(second.stderrText)")
            let refused = try Self.object(second.stdoutText)
            #expect(refused["outcome"] as? String == "refused")
            #expect(refused["exit_code"] as? Int == 4)
            #expect((refused["error"] as? String)?.contains("deploy lock held") == true, "\(refused)")

            #expect(exit == 0, "\(stderr)")
            let there = try await host.run("cd botops/bin && sha256sum botops && ls -A")
            #expect(there.stdoutText == "\(expected)  botops\nbot-engine\nbotops\n", "not the first's binary whole, or a part left: \(there.stdoutText)")

            let installed = try Self.object(String(decoding: firstOutput, as: UTF8.self))
            #expect(installed["outcome"] as? String == "installed")
            #expect(installed["exit_code"] as? Int == 0)
            let files = try #require(installed["files"] as? [[String: Any]])
            #expect(files.first?["path"] as? String == "~/botops/bin/botops")
            #expect(files.first?["sha256"] as? String == expected)
            let yml = files.first { $0["path"] as? String == "~/botops/botops.yml" }
            #expect(yml?["sha256"] as? String == (try await Self.sha256(config)))
            #expect(yml?["mode"] as? String == "600")
            let version = try await LocalHost().run(shellCommand([binary, "--version"])).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(installed["host_version"] as? String == version)
            #expect(installed["removed"] as? [String] == [])
        }
    }

    /// The refusal's advice, `--lock-wait 10m`, works for install-host: a second run given it
    /// waits (saying for whom) while the first is stopped mid-upload, then installs once the
    /// first has finished and released the lock.
    @Test func aSecondInstallHostWithLockWaitWaitsForTheFirstThenInstalls() async throws {
        let binary = try await Self.releaseBinary()
        let local = try operatorDirectory()
        defer { try? FileManager.default.removeItem(at: local) }
        let config = local.appendingPathComponent("botops.yml").path
        try await withoutHostBotops { host in
            let first = try RunningBinary(["install-host", "--config", config, "--binary", binary])
            let pid = first.process.processIdentifier
            // Never left running past this test (and the sandbox lock): continued, and waited for.
            defer { kill(pid, SIGCONT); first.process.waitUntilExit() }
            try await Self.stopMidUpload(first, host: host)

            let second = try RunningBinary(["install-host", "--config", config, "--binary", binary, "--lock-wait", "10m"])
            defer { second.process.waitUntilExit() }
            var waiting = ""
            for _ in 0..<300 where !waiting.contains("waiting for the deploy lock") && second.process.isRunning {
                waiting = (try? String(contentsOf: second.errors, encoding: .utf8)) ?? ""
                try await Task.sleep(for: .milliseconds(100))
            }
            kill(pid, SIGCONT)
            let (secondExit, secondStderr) = second.exitStatus()
            let (firstExit, firstStderr) = first.exitStatus()
            #expect(waiting.contains("waiting for the deploy lock (") && waiting.contains("(pid \(pid)): botops install-host"), "\(waiting)\(secondStderr)")
            #expect(firstExit == 0, "\(firstStderr)")
            #expect(secondExit == 0, "\(secondStderr)")
            #expect(try await host.run("cd botops/bin && sha256sum botops").stdoutText == "\(try await Self.sha256(binary))  botops\n")
        }
    }

    /// The JSON names crontab.d entries removed on the host and a refusal's problems. With no
    /// port of the db container to go by (botops.yml names a container that does not exist),
    /// engine.env is not written and the operator is told what to write: exit 0, a warning.
    @Test func jsonNamesRemovedEntriesARefusalsProblemsAndWhatToWriteIntoEngineEnv() async throws {
        let binary = try await Self.releaseBinary()
        let local = try operatorDirectory()
        defer { try? FileManager.default.removeItem(at: local) }
        let config = local.appendingPathComponent("botops.yml").path
        let yml = try String(contentsOfFile: config, encoding: .utf8)
        try #require(yml.contains("container: db,"))
        try yml.replacingOccurrences(of: "container: db,", with: "container: no-such-db,").write(toFile: config, atomically: true, encoding: .utf8)
        try await withoutHostBotops { host in
            // An entry and a playbook override deleted here (this botops.yml's directory has only deploy.yml).
            #expect(try await host.run("mkdir -p botops/crontab.d botops/playbooks && echo '# gone' > 'botops/crontab.d/old one.cron' && echo 'steps: []' > botops/playbooks/rollback.yml").succeeded)
            let result = try await BuiltBinary.botops.run(["install-host", "--config", config, "--binary", binary, "--format", "json"])
            #expect(result.termination == .exited(0), "\(result.stderrText)")
            let installed = try Self.object(result.stdoutText)
            #expect(installed["removed"] as? [String] == ["~/botops/crontab.d/old one.cron", "~/botops/playbooks/rollback.yml"], "\(installed)")
            #expect(try await host.run("cd && [ ! -e botops/playbooks/rollback.yml ] && [ -f botops/playbooks/deploy.yml ]").succeeded)
            let env = try #require(installed["engine_env"] as? [String: Any], "\(installed)")
            #expect(env["action"] as? String == "not created")
            #expect((env["why"] as? String)?.contains("docker inspect no-such-db") == true, "\(env)")
            #expect((env["write"] as? String)?.contains("mode 600") == true)
            #expect((env["write"] as? String)?.contains("BOT_DATABASE_URL=postgres://bot_user@HOST:PORT/bot_trader_db") == true, "\(env)")
            #expect(result.stderrText.contains("warning: ~/botops/engine.env not created"), "\(result.stderrText)")
            #expect(try await host.run("cd && [ ! -e botops/engine.env ]").succeeded, "engine.env was written without a port to go by")

            let refused = try await BuiltBinary.botops.run(["install-host", "--config", config, "--binary", BuiltBinary.botops.path, "--format", "json"])
            #expect(refused.termination == .exited(4), "\(refused.stderrText)")
            let object = try Self.object(refused.stdoutText)
            #expect(object["outcome"] as? String == "refused")
            #expect((object["problems"] as? [String])?.first?.contains("Swift runtime") == true, "\(object)")
        }
    }

    /// A config that cannot be read ends the command before it starts: still one JSON object.
    @Test func jsonReportsAnErrorBeforeTheCommandStarts() async throws {
        let result = try await BuiltBinary.botops.run(["install-host", "--config", "/nonexistent/botops.yml", "--format", "json"])
        #expect(result.termination == .exited(2), "\(result.stderrText)")
        let object = try Self.object(result.stdoutText)
        #expect(object["outcome"] as? String == "usage")
        #expect(object["exit_code"] as? Int == 2)
    }
}
