@testable import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// `botops rollback --plan cron` end to end on the sandbox: crontab.d as committed at the previous
/// verified release (or --to REV) is installed; the checkout, the containers and the images stay.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct CronRollbackSandboxTests {
    let sandbox: Sandbox

    init() throws {
        sandbox = try Sandbox.require()
    }

    /// A git repository holding botops.yml (with a state directory of this test's own) and
    /// crontab.d, committed twice: the daily report (release A), then every six hours (release B).
    func repository(state: String) throws -> (directory: URL, config: String, a: String, b: String) {
        let directory = try temporaryDirectory()
        let entries = directory.appendingPathComponent("crontab.d")
        try FileManager.default.createDirectory(at: entries, withIntermediateDirectories: true)
        let config = directory.appendingPathComponent("botops.yml").path
        try (try String(contentsOfFile: sandbox.configFile, encoding: .utf8) + "state_dir: \(state)\n").write(toFile: config, atomically: true, encoding: .utf8)
        func git(_ arguments: String...) throws -> String {
            let result = try SandboxCrontab.run(["git", "-C", directory.path, "-c", "user.name=t", "-c", "user.email=t@t"] + arguments)
            guard result.status == 0 else { throw SandboxFailure(description: "git \(arguments): \(result.stderr)") }
            return String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try git("init", "-q")
        let report = entries.appendingPathComponent("report.cron")
        try "0 9 * * * /bin/echo botops-rollback-test >> /dev/null\n".write(to: report, atomically: true, encoding: .utf8)
        _ = try git("add", "-A")
        _ = try git("commit", "-qm", "daily")
        let a = try git("rev-parse", "HEAD")
        try "0 */6 * * * /bin/echo botops-rollback-test >> /dev/null\n".write(to: report, atomically: true, encoding: .utf8)
        _ = try git("commit", "-qam", "every six hours")
        return (directory, config, a, try git("rev-parse", "HEAD"))
    }

    /// What must not change: the checkout's revision and status, and each container with its image.
    func hostState(_ connection: SSHConnection) async throws -> String {
        let result = try await connection.run("cd \(shellQuote(sandbox.app)) && git rev-parse HEAD && git status --porcelain && docker ps -q --no-trunc | sort | xargs docker inspect --type container -f '{{.Name}} {{.Id}} {{.Image}}'")
        #expect(result.succeeded, "\(result.stderrText)")
        return result.stdoutText
    }

    @Test func installsCrontabDAsCommittedAtThePreviousVerifiedReleaseAndNothingElse() async throws {
        let state = "/tmp/botops-cron-rollback-\(UUID().uuidString)"
        let (directory, config, a, b) = try repository(state: state)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await SandboxCrontab.scene {
            let connection = try await SSHConnection.connect(to: try sandbox.target())
            try await connection.closing {
                defer { try? SandboxCrontab.run(["rm", "-rf", state]) }
                let releases = #"{"services":{"sighook":[{"image":"bottrader/sighook:x","recorded_at":1,"revision":"\#(a)"},{"image":"bottrader/sighook:x","recorded_at":2,"revision":"\#(b)"}]}}"#
                let written = try await connection.run("mkdir -p \(shellQuote(state)) && printf '%s\\n' \(shellQuote(releases)) > \(shellQuote(state))/releases.json")
                #expect(written.succeeded, "\(written.stderrText)")
                let before = try await hostState(connection)

                let result = try await BuiltBinary.botops.run(["rollback", "--plan", "cron", "--service", "sighook", "--config", config])
                #expect(result.termination == .exited(0), "\(result.stdoutText)\(result.stderrText)")
                #expect(result.stdoutText.contains("crontab.d as committed at \(a.prefix(12))"), "\(result.stdoutText)")
                let crontab = String(decoding: try #require(try SandboxCrontab.read()), as: UTF8.self)
                #expect(crontab.contains("# BEGIN botops report"))
                #expect(crontab.contains("\n0 9 * * * /bin/echo botops-rollback-test >> /dev/null\n"), "\(crontab)")
                #expect(try await hostState(connection) == before)

                // --to REV: that revision's crontab.d.
                let forward = try await BuiltBinary.botops.run(["rollback", "--plan", "cron", "--to", b, "--config", config])
                #expect(forward.termination == .exited(0), "\(forward.stdoutText)\(forward.stderrText)")
                let after = String(decoding: try #require(try SandboxCrontab.read()), as: UTF8.self)
                #expect(after.contains("\n0 */6 * * * /bin/echo botops-rollback-test >> /dev/null\n"), "\(after)")
                #expect(try await hostState(connection) == before)
            }
        }
    }

    @Test func withoutAPreviousReleaseItRefusesAndChangesNothing() async throws {
        let state = "/tmp/botops-cron-rollback-\(UUID().uuidString)"
        let (directory, config, _, _) = try repository(state: state)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await SandboxCrontab.scene {
            let before = try SandboxCrontab.read()
            let result = try await BuiltBinary.botops.run(["rollback", "--plan", "cron", "--service", "sighook", "--config", config])
            #expect(result.termination == .exited(4), "\(result.stdoutText)\(result.stderrText)")
            #expect(result.stderrText.contains("Pass --to REV"), "\(result.stderrText)")
            #expect(try SandboxCrontab.read() == before)
            try? SandboxCrontab.run(["rm", "-rf", state])
        }
    }

    /// Ctrl-C while `botops cron install` writes the crontab: the write is waited for, not
    /// abandoned, so the crontab is the new one in full, and the lock is released after it.
    /// The write is held at its start on the host (the step lock's label goes to a FIFO nobody
    /// reads until the test does), so the signal lands while it is in flight.
    @Test func ctrlCDuringTheCrontabWriteLeavesItWrittenInFullAndTheLockFree() async throws {
        let state = "/tmp/botops-cron-sigint-\(UUID().uuidString)"
        let (directory, config, _, _) = try repository(state: state)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await SandboxCrontab.scene {
            defer { try? SandboxCrontab.run(["rm", "-rf", state]) }
            try SandboxCrontab.run(["install", "-d", "-o", SandboxCrontab.user, "-m", "700", state])
            try SandboxCrontab.run(["mkfifo", "-m", "600", state + "/step.cmd"])
            try SandboxCrontab.run(["chown", SandboxCrontab.user, state + "/step.cmd"])
            let before = try SandboxCrontab.read()
            let botops = Process()
            botops.executableURL = URL(fileURLWithPath: BuiltBinary.botops.path)
            botops.arguments = ["cron", "install", "--config", config, "--crontab-dir", directory.appendingPathComponent("crontab.d").path]
            botops.standardOutput = FileHandle.nullDevice
            botops.standardError = FileHandle.nullDevice
            try botops.run()
            defer { if botops.isRunning { kill(botops.processIdentifier, SIGKILL) } }
            var writing = false
            for _ in 0..<600 where !writing {
                writing = try SandboxCrontab.run(["pgrep", "-u", SandboxCrontab.user, "-f", "botops cron: the crontab writ[e]"]).status == 0
                if !writing { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(writing, "the crontab write never started")
            kill(botops.processIdentifier, SIGINT)
            try await Task.sleep(for: .milliseconds(300))
            #expect(botops.isRunning, "botops ended while its crontab write was in flight")
            #expect(try SandboxCrontab.read() == before, "written before the write was let go")
            try SandboxCrontab.run(["cat", state + "/step.cmd"])
            for _ in 0..<200 where botops.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!botops.isRunning)
            #expect([0, 130].contains(botops.terminationStatus), "exit \(botops.terminationStatus)")
            let crontab = String(decoding: try #require(try SandboxCrontab.read()), as: UTF8.self)
            #expect(crontab.contains("# BEGIN botops report") && crontab.contains("\n0 */6 * * * /bin/echo botops-rollback-test >> /dev/null\n"), "\(crontab)")
            #expect(!FileManager.default.fileExists(atPath: state + "/holder.json"), "the lock's holder record is still there")
            let lock = try SandboxCrontab.run(["flock", "-n", state + "/lock", "true"])
            #expect(lock.status == 0, "the lock is still held")
        }
    }
}
