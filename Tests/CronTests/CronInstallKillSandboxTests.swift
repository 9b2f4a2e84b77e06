@testable import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// `botops cron install` (the real binary, over ssh to the sandbox) stopped at its two points on
/// the host: held after the backup of the crontab, and mid-write (crontab(1) has read part of the
/// new crontab). botops is killed (SIGKILL), or its connection lost (the sshd session frozen).
/// Each time the crontab is the old one or the new one in full, never a part; a rerun says what
/// still runs or finishes the job; the advice printed repairs it.
///
/// The hold is a `crontab` first on the ssh user's PATH (/usr/local/bin) that passes through to
/// /usr/bin/crontab except for this test's own state directory while the test arms it.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct CronInstallKillSandboxTests {
    let sandbox: Sandbox
    let state = "/tmp/botops-cron-kill-\(UUID().uuidString.prefix(8).lowercased())"
    static let hold = "/tmp/botops-cron-kill-hold"
    static let wrapper = "/usr/local/bin/crontab"
    static let line = "0 9 * * * /bin/echo botops-cron-kill-test >> /dev/null"
    static let before = "# bot's own line, kept byte for byte\n17 3 * * * /bin/true\n"

    init() throws {
        sandbox = try Sandbox.require()
    }

    enum Stop: String { case afterBackup = "hold", midWrite = "mid" }

    /// A config with this test's state directory (and `sshExtra` in its own ssh config), crontab.d
    /// with one entry, the wrapper armed; the crontab, the wrapper and spool leftovers put back after.
    func scene(stop: Stop, sshExtra: [String] = [], _ body: (_ config: String, _ crontabDir: String) async throws -> Void) async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let crontabDir = directory.appendingPathComponent("crontab.d")
        try FileManager.default.createDirectory(at: crontabDir, withIntermediateDirectories: true)
        try (Self.line + "\n").write(to: crontabDir.appendingPathComponent("kill.cron"), atomically: true, encoding: .utf8)
        var config = try String(contentsOfFile: sandbox.configFile, encoding: .utf8) + "state_dir: \(state)\n"
        if !sshExtra.isEmpty {
            let sshConfig = directory.appendingPathComponent("ssh_config").path
            let base = try String(contentsOfFile: "/var/lib/botops-sandbox/ssh/ssh_config", encoding: .utf8)
            try (base + sshExtra.map { "  \($0)\n" }.joined()).write(toFile: sshConfig, atomically: true, encoding: .utf8)
            config = config.replacingOccurrences(of: "ssh_config: /var/lib/botops-sandbox/ssh/ssh_config", with: "ssh_config: \(sshConfig)")
        }
        let configPath = directory.appendingPathComponent("botops.yml").path
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        try await SandboxCrontab.scene {
            let spool = Set(try FileManager.default.contentsOfDirectory(atPath: "/var/spool/cron/crontabs"))
            defer {
                try? FileManager.default.removeItem(atPath: Self.wrapper)
                try? FileManager.default.removeItem(atPath: Self.hold)
                try? SandboxCrontab.run(["rm", "-rf", state])
                for leftover in (try? FileManager.default.contentsOfDirectory(atPath: "/var/spool/cron/crontabs")) ?? [] where !spool.contains(leftover) {
                    try? FileManager.default.removeItem(atPath: "/var/spool/cron/crontabs/" + leftover)
                }
            }
            try SandboxCrontab.write(Array(Self.before.utf8))
            try SandboxCrontab.run(["install", "-d", "-m", "777", Self.hold])
            try stop.rawValue.write(toFile: Self.hold + "/mode", atomically: true, encoding: .utf8)
            try state.write(toFile: Self.hold + "/armed", atomically: true, encoding: .utf8)
            try Self.wrapperScript.write(toFile: Self.wrapper, atomically: true, encoding: .utf8)
            chmod(Self.wrapper, 0o755)
            try await body(configPath, crontabDir.path)
        }
    }

    static let wrapperScript = """
        #!/bin/sh
        # botops CronInstallKillSandboxTests: holds crontab FILE for its own state directory only.
        hold=\(hold)
        if [ $# -eq 1 ] && [ -f "$hold/armed" ]; then
          case $1 in "$(cat "$hold/armed")"/crontab-backups/.new.*)
            echo $$ > "$hold/pid"
            if [ "$(cat "$hold/mode")" = mid ]; then
              { head -c 40 "$1"; touch "$hold/reached"; while [ ! -e "$hold/go" ]; do sleep 0.05; done; tail -c +41 "$1"; } | /usr/bin/crontab -
              exit $?
            fi
            touch "$hold/reached"
            while [ ! -e "$hold/go" ]; do sleep 0.05; done ;;
          esac
        fi
        exec /usr/bin/crontab "$@"

        """

    func start(_ config: String, _ crontabDir: String) throws -> Process {
        let botops = Process()
        botops.executableURL = URL(fileURLWithPath: BuiltBinary.botops.path)
        botops.arguments = ["cron", "install", "--config", config, "--crontab-dir", crontabDir]
        botops.standardOutput = FileHandle.nullDevice
        botops.standardError = FileHandle.nullDevice
        try botops.run()
        return botops
    }

    func install(_ config: String, _ crontabDir: String) async throws -> CommandResult {
        try await BuiltBinary.botops.run(["cron", "install", "--config", config, "--crontab-dir", crontabDir])
    }

    func waitFor(_ what: String, _ condition: () throws -> Bool) async throws {
        for _ in 0..<1200 {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw SandboxFailure(description: "timed out waiting for \(what)")
    }

    func reached() async throws {
        try await waitFor("the crontab write to reach the hold") { FileManager.default.fileExists(atPath: Self.hold + "/reached") }
    }

    /// Free: nothing holds the deploy lock's or the step lock's flock any more.
    func lockFree(_ name: String) throws -> Bool {
        try SandboxCrontab.run(["flock", "-n", "\(state)/\(name)", "true"]).status == 0
    }

    func backups() throws -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: state + "/crontab-backups")) ?? []).filter { CrontabBackups.isBackupName($0) }
    }

    func crontab() throws -> String { String(decoding: try SandboxCrontab.read() ?? [], as: UTF8.self) }

    func isNewInFull(_ text: String) -> Bool {
        text.hasPrefix(Self.before) && text.hasSuffix(" then run botops cron install)\n\(Self.line)\n# END botops kill\n")
            && text.contains("\n# BEGIN botops kill (")
    }

    @Test func killedAfterTheBackupTheWriteFinishesOnTheHostAndARerunWaitsForIt() async throws {
        try await scene(stop: .afterBackup) { config, dir in
            let botops = try start(config, dir)
            defer { if botops.isRunning { kill(botops.processIdentifier, SIGKILL) } }
            try await reached()
            #expect(try backups().count == 1, "the crontab is backed up before it is written")
            #expect(try crontab() == Self.before)
            kill(botops.processIdentifier, SIGKILL)
            botops.waitUntilExit()
            // The killed botops's lock holder dies with its session; its write still runs.
            try await waitFor("the killed botops's deploy lock to be freed") { try lockFree("lock") }
            let waiting = try await install(config, dir)
            #expect(waiting.termination == .exited(4), "\(waiting.stdoutText)\(waiting.stderrText)")
            #expect(waiting.stderrText.contains("still runs on the host (botops cron: the crontab write)"), "\(waiting.stderrText)")
            #expect(try crontab() == Self.before, "a refused rerun wrote")
            FileManager.default.createFile(atPath: Self.hold + "/go", contents: nil)
            try await waitFor("the orphaned write to end") { try lockFree("step.lock") }
            let after = try crontab()
            #expect(isNewInFull(after), "\(after)")
            let rerun = try await install(config, dir)
            #expect(rerun.termination == .exited(0), "\(rerun.stdoutText)\(rerun.stderrText)")
            #expect(rerun.stdoutText.contains("no changes"), "\(rerun.stdoutText)")
        }
    }

    @Test func killedMidWriteWithTheHostSideTheOldCrontabStaysWholeAndARerunInstalls() async throws {
        try await scene(stop: .midWrite) { config, dir in
            let botops = try start(config, dir)
            defer { if botops.isRunning { kill(botops.processIdentifier, SIGKILL) } }
            try await reached()
            kill(botops.processIdentifier, SIGKILL)
            botops.waitUntilExit()
            // The host side dies too, mid-write: crontab(1) has read 40 bytes of the new crontab.
            let pid = try String(contentsOfFile: Self.hold + "/pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let group = String(decoding: try SandboxCrontab.run(["ps", "-o", "pgid=", "-p", pid]).stdout, as: UTF8.self).trimmingCharacters(in: .whitespaces.union(.newlines))
            let leader = try #require(pid_t(group), "no process group for \(pid)")
            try #require(leader > 1 && leader != getpgrp(), "process group \(leader) is not the host side's")
            kill(-leader, SIGKILL)
            try await waitFor("the step lock to be freed") { try lockFree("step.lock") && lockFree("lock") }
            #expect(try crontab() == Self.before, "a partly written crontab was installed")
            FileManager.default.createFile(atPath: Self.hold + "/go", contents: nil)
            try FileManager.default.removeItem(atPath: Self.hold + "/armed")
            let rerun = try await install(config, dir)
            #expect(rerun.termination == .exited(0), "\(rerun.stdoutText)\(rerun.stderrText)")
            let after = try crontab()
            #expect(isNewInFull(after), "\(after)")
            let kept = try backups()
            #expect(kept.count == 2, "\(kept)")
        }
    }

    @Test func aConnectionLostMidWriteExitsThreeAndTheAdvisedRerunFindsTheCrontabWhole() async throws {
        try await scene(stop: .midWrite, sshExtra: ["ServerAliveInterval 2", "ServerAliveCountMax 1"]) { config, dir in
            let run = Task { try await install(config, dir) }
            try await reached()
            // The sshd session serving botops: the parent of the shell that runs the write.
            let pid = try String(contentsOfFile: Self.hold + "/pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            var session = pid_t(pid) ?? 0
            while session > 1, (try? TestSSHServer.sessionProcess(session)) == nil {
                let stat = (try? String(contentsOfFile: "/proc/\(session)/stat", encoding: .utf8)) ?? ""
                session = pid_t(stat.split(separator: ")").last?.split(separator: " ").dropFirst().first ?? "") ?? 0
            }
            try #require(session > 1, "no sshd session above the write")
            kill(session, SIGSTOP)
            defer {
                kill(session, SIGCONT)
                kill(session, SIGTERM)
            }
            let result = try await run.value
            #expect(result.termination == .exited(3), "\(result.stdoutText)\(result.stderrText)")
            #expect(result.stderrText.contains("connection lost to 127.0.0.1"), "\(result.stderrText)")
            #expect(result.stderrText.contains("Re-run"), "\(result.stderrText)")
            // The host side goes on without botops: the write ends whole.
            FileManager.default.createFile(atPath: Self.hold + "/go", contents: nil)
            kill(session, SIGCONT)
            kill(session, SIGTERM)
            try await waitFor("the write to end and the lock to be freed") { try lockFree("step.lock") && lockFree("lock") }
            let after = try crontab()
            #expect(isNewInFull(after), "\(after)")
            // The advice, followed: the rerun finds the crontab as crontab.d says.
            let rerun = try await install(config, dir)
            #expect(rerun.termination == .exited(0), "\(rerun.stdoutText)\(rerun.stderrText)")
            #expect(rerun.stdoutText.contains("no changes"), "\(rerun.stdoutText)")
        }
    }
}
