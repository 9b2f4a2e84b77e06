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
    /// crontab.d, committed three times: the report daily (release A), every six hours (B), hourly (C).
    func repository(state: String) throws -> (directory: URL, config: String, revisions: [String]) {
        let directory = try temporaryDirectory()
        let entries = directory.appendingPathComponent("crontab.d")
        try FileManager.default.createDirectory(at: entries, withIntermediateDirectories: true)
        let config = directory.appendingPathComponent("botops.yml").path
        try (try String(contentsOfFile: sandbox.configFile, encoding: .utf8) + "state_dir: \(state)\n").write(toFile: config, atomically: true, encoding: .utf8)
        func git(_ arguments: String...) throws -> String {
            let result = try runProgram(["git", "-C", directory.path, "-c", "user.name=t", "-c", "user.email=t@t"] + arguments)
            guard result.status == 0 else { throw SandboxFailure(description: "git \(arguments): \(result.stderr)") }
            return String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try git("init", "-q")
        var revisions: [String] = []
        for schedule in Self.schedules {
            try "\(schedule) /bin/echo botops-rollback-test >> /dev/null\n".write(to: entries.appendingPathComponent("report.cron"), atomically: true, encoding: .utf8)
            _ = try git("add", "-A")
            _ = try git("commit", "-qm", schedule)
            revisions.append(try git("rev-parse", "HEAD"))
        }
        return (directory, config, revisions)
    }

    static let schedules = ["0 9 * * *", "0 */6 * * *", "0 * * * *"]

    /// A scene on the sandbox: this test's repository and state directory, a connection, and the
    /// crontab put back afterwards.
    func scene(_ body: (_ connection: SSHConnection, _ config: String, _ revisions: [String], _ state: String) async throws -> Void) async throws {
        let state = "/tmp/botops-cron-rollback-\(UUID().uuidString)"
        let (directory, config, revisions) = try repository(state: state)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await SandboxCrontab.scene {
            let connection = try await SSHConnection.connect(to: try sandbox.target())
            try await connection.closing {
                defer { try? runProgram(["rm", "-rf", state]) }
                try await body(connection, config, revisions, state)
            }
        }
    }

    /// releases.json with the given services' releases (revision, image id), oldest first.
    func writeReleases(_ services: [String: [(revision: String, imageID: String)]], state: String, _ connection: SSHConnection) async throws {
        let lists = services.map { service, releases in
            "\"\(service)\":[" + releases.enumerated().map { n, release in
                #"{"image":"bottrader/\#(service):botops-\#(release.revision.prefix(12))","image_id":"\#(release.imageID)","recorded_at":\#(n),"revision":"\#(release.revision)"}"#
            }.joined(separator: ",") + "]"
        }
        let json = "{\"services\":{" + lists.joined(separator: ",") + "}}"
        let written = try await connection.run("mkdir -p \(shellQuote(state)) && printf '%s\\n' \(shellQuote(json)) > \(shellQuote(state))/releases.json")
        #expect(written.succeeded, "\(written.stderrText)")
    }

    func runningImage(_ service: String, _ connection: SSHConnection) async throws -> String {
        let result = try await connection.run("docker inspect --type container -f '{{.Image}}' \(shellQuote(service))")
        #expect(result.succeeded, "\(result.stderrText)")
        return result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The report line the crontab holds now.
    func installedSchedule() throws -> String? {
        let crontab = String(decoding: try #require(try SandboxCrontab.read()), as: UTF8.self)
        return Self.schedules.first { crontab.contains("\n\($0) /bin/echo botops-rollback-test >> /dev/null\n") }
    }

    /// What must not change: the checkout's revision and status, and each container with its image.
    func hostState(_ connection: SSHConnection) async throws -> String {
        let result = try await connection.run("cd \(shellQuote(sandbox.app)) && git rev-parse HEAD && git status --porcelain && docker ps -q --no-trunc | sort | xargs docker inspect --type container -f '{{.Name}} {{.Id}} {{.Image}}'")
        #expect(result.succeeded, "\(result.stderrText)")
        return result.stdoutText
    }

    /// sighook runs release B's image: crontab.d as committed at A, the verified release before it,
    /// is installed, and the checkout, containers and images stay as they were.
    @Test func installsCrontabDAsCommittedAtThePreviousVerifiedReleaseAndNothingElse() async throws {
        try await scene { connection, config, revisions, state in
            let sighook = try await runningImage("sighook", connection)
            try await writeReleases(["sighook": [(revisions[0], "sha256:0a"), (revisions[1], sighook)]], state: state, connection)
            let before = try await hostState(connection)

            let result = try await BuiltBinary.botops.run(["rollback", "--plan", "cron", "--service", "sighook", "--config", config])
            #expect(result.termination == .exited(0), "\(result.stdoutText)\(result.stderrText)")
            #expect(result.stdoutText.contains("crontab.d as committed at \(revisions[0].prefix(12))"), "\(result.stdoutText)")
            let crontab = String(decoding: try #require(try SandboxCrontab.read()), as: UTF8.self)
            #expect(crontab.contains("# BEGIN botops report"))
            #expect(try installedSchedule() == Self.schedules[0], "\(crontab)")
            #expect(try await hostState(connection) == before)

            // --to REV: that revision's crontab.d.
            let forward = try await BuiltBinary.botops.run(["rollback", "--plan", "cron", "--to", revisions[2], "--config", config])
            #expect(forward.termination == .exited(0), "\(forward.stdoutText)\(forward.stderrText)")
            #expect(try installedSchedule() == Self.schedules[2])
            #expect(try await hostState(connection) == before)
        }
    }

    /// All services went to C, then sighook alone was rolled back to B: "previous" is judged per
    /// service from the image it runs (sighook: A, webhook: B), not from the newest record (C),
    /// and `--format json` reports in events, a refusal too.
    @Test func aServiceRolledBackAloneIsJudgedFromTheImageItRuns() async throws {
        try await scene { connection, config, revisions, state in
            let sighook = try await runningImage("sighook", connection)
            let webhook = try await runningImage("webhook", connection)
            try await writeReleases([
                "sighook": [(revisions[0], "sha256:1a"), (revisions[1], sighook), (revisions[2], "sha256:1c")],
                "webhook": [(revisions[0], "sha256:2a"), (revisions[1], "sha256:2b"), (revisions[2], webhook)],
            ], state: state, connection)
            let before = try await hostState(connection)

            let alone = try await BuiltBinary.botops.run(["rollback", "--plan", "cron", "--service", "sighook", "--config", config, "--format", "json"])
            #expect(alone.termination == .exited(0), "\(alone.stdoutText)\(alone.stderrText)")
            #expect(try installedSchedule() == Self.schedules[0], "sighook runs B: its previous is A, not B")
            let events = try alone.stdoutText.split(separator: "\n").map { line in
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON event: \(line)")
            }
            #expect(events.first?["event"] as? String == "started")
            #expect(events.last?["event"] as? String == "finished" && events.last?["exit_code"] as? Int == 0)
            #expect((events.last?["summary"] as? String)?.contains("committed at \(revisions[0].prefix(12))") == true, "\(alone.stdoutText)")

            let other = try await BuiltBinary.botops.run(["rollback", "--plan", "cron", "--service", "webhook", "--config", config])
            #expect(other.termination == .exited(0), "\(other.stdoutText)\(other.stderrText)")
            #expect(try installedSchedule() == Self.schedules[1])

            let both = try await BuiltBinary.botops.run(["rollback", "--plan", "cron", "--service", "sighook,webhook", "--config", config, "--format", "json"])
            #expect(both.termination == .exited(4), "\(both.stdoutText)\(both.stderrText)")
            #expect(both.stdoutText.contains("\"event\":\"finished\"") && both.stdoutText.contains("\"exit_code\":4"), "\(both.stdoutText)")
            #expect(try installedSchedule() == Self.schedules[1], "a refusal changes nothing")
            #expect(try await hostState(connection) == before)
        }
    }

    /// Plan B is the way out when a release went wrong: it must not depend on the code playbooks,
    /// which it does not run. A rollback.yml botops cannot read does not hold up `--to previous`.
    @Test func aBrokenCodePlaybookDoesNotHoldUpPlanB() async throws {
        try await scene { connection, config, revisions, state in
            let playbooks = URL(fileURLWithPath: config).deletingLastPathComponent().appendingPathComponent("playbooks")
            try FileManager.default.createDirectory(at: playbooks, withIntermediateDirectories: true)
            try "steps: [unclosed\n".write(to: playbooks.appendingPathComponent("rollback.yml"), atomically: true, encoding: .utf8)
            let sighook = try await runningImage("sighook", connection)
            try await writeReleases(["sighook": [(revisions[0], "sha256:0a"), (revisions[1], sighook)]], state: state, connection)
            let result = try await BuiltBinary.botops.run(["rollback", "--plan", "cron", "--service", "sighook", "--config", config])
            #expect(result.termination == .exited(0), "\(result.stdoutText)\(result.stderrText)")
            #expect(try installedSchedule() == Self.schedules[0])
        }
    }

    @Test func withoutAPreviousReleaseItRefusesAndChangesNothing() async throws {
        try await scene { _, config, _, _ in
            let before = try SandboxCrontab.read()
            let result = try await BuiltBinary.botops.run(["rollback", "--plan", "cron", "--service", "sighook", "--config", config])
            #expect(result.termination == .exited(2), "\(result.stdoutText)\(result.stderrText)")
            #expect(result.stderrText.contains("pass --to BRANCH or --to REVISION"), "\(result.stderrText)")
            #expect(try SandboxCrontab.read() == before)
        }
    }

    /// Ctrl-C while `botops cron install` writes the crontab: the write is waited for, not
    /// abandoned, so the crontab is the new one in full, and the lock is released after it.
    /// The write is held at its start on the host (the step lock's label goes to a FIFO nobody
    /// reads until the test does), so the signal lands while it is in flight.
    @Test func ctrlCDuringTheCrontabWriteLeavesItWrittenInFullAndTheLockFree() async throws {
        let state = "/tmp/botops-cron-sigint-\(UUID().uuidString)"
        let (directory, config, _) = try repository(state: state)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await SandboxCrontab.scene {
            defer { try? runProgram(["rm", "-rf", state]) }
            try runProgram(["install", "-d", "-o", SandboxCrontab.user, "-m", "700", state])
            try runProgram(["mkfifo", "-m", "600", state + "/step.cmd"])
            try runProgram(["chown", SandboxCrontab.user, state + "/step.cmd"])
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
                writing = try runProgram(["pgrep", "-u", SandboxCrontab.user, "-f", "botops cron: the crontab writ[e]"]).status == 0
                if !writing { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(writing, "the crontab write never started")
            kill(botops.processIdentifier, SIGINT)
            try await Task.sleep(for: .milliseconds(300))
            #expect(botops.isRunning, "botops ended while its crontab write was in flight")
            #expect(try SandboxCrontab.read() == before, "written before the write was let go")
            try runProgram(["cat", state + "/step.cmd"])
            for _ in 0..<200 where botops.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!botops.isRunning)
            #expect([0, 130].contains(botops.terminationStatus), "exit \(botops.terminationStatus)")
            let crontab = String(decoding: try #require(try SandboxCrontab.read()), as: UTF8.self)
            #expect(crontab.contains("# BEGIN botops report") && crontab.contains("\n\(Self.schedules.last!) /bin/echo botops-rollback-test >> /dev/null\n"), "\(crontab)")
            #expect(!FileManager.default.fileExists(atPath: state + "/holder.json"), "the lock's holder record is still there")
            let lock = try runProgram(["flock", "-n", state + "/lock", "true"])
            #expect(lock.status == 0, "the lock is still held")
        }
    }
}
