@testable import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Synchronization
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
            // A run killed before its cleanup left its hold files: none may pass for this run's.
            try runProgram(["rm", "-rf", Self.hold])
            let spool = Set(try FileManager.default.contentsOfDirectory(atPath: "/var/spool/cron/crontabs"))
            let saved = try SandboxCrontab.read()
            // Runs before SandboxCrontab.scene puts the crontab back: a write still held must end
            // first (given up, nothing installed), or it would install after that, or hold on the
            // host for ever once the lock is released.
            let cleanUp: @Sendable () -> Bool = { [state] in
                let ended = Self.endHeldWrite(state: state)
                try? FileManager.default.removeItem(atPath: Self.wrapper)
                try? FileManager.default.removeItem(atPath: Self.hold)
                try? runProgram(["rm", "-rf", state])
                for leftover in (try? FileManager.default.contentsOfDirectory(atPath: "/var/spool/cron/crontabs")) ?? [] where !spool.contains(leftover) {
                    try? FileManager.default.removeItem(atPath: "/var/spool/cron/crontabs/" + leftover)
                }
                return ended
            }
            // Ctrl-C or SIGTERM to this process (SIGKILL cannot be caught: the wrapper then gives
            // the write up by itself, and the next run clears what is left).
            // The test goes on meanwhile on its own threads: no botops of it may start or run on
            // (its install would land after the crontab is put back), so they are ended first.
            Self.launchesStopped.store(false, ordering: .sequentiallyConsistent)
            let interrupted = CleanUpOnSignal { [directory] in
                Self.launchesStopped.store(true, ordering: .sequentiallyConsistent)
                for _ in 0..<20 {
                    let ours = Self.botopsProcesses(using: directory.path)
                    for pid in ours where pid > 1 && pid != getpid() { kill(pid, SIGKILL) }
                    _ = cleanUp()
                    if ours.isEmpty && Self.botopsProcesses(using: directory.path).isEmpty { break }
                }
                try? SandboxCrontab.write(saved)
            }
            defer {
                interrupted.cancel()
                if !cleanUp() { Issue.record("the held crontab write of \(state) did not end on the host") }
            }
            try SandboxCrontab.write(Array(Self.before.utf8))
            try runProgram(["install", "-d", "-m", "777", Self.hold])
            try stop.rawValue.write(toFile: Self.hold + "/mode", atomically: true, encoding: .utf8)
            // The wrapper gives the write up once this process is gone (killed, interrupted).
            try "\(state) \(getpid())\n".write(toFile: Self.hold + "/armed", atomically: true, encoding: .utf8)
            // Executable before it is in place: a `crontab` found on PATH meanwhile is never a bare file.
            let staged = Self.wrapper + ".botops-test"
            try writeExecutable(Self.wrapperScript, to: staged)
            guard rename(staged, Self.wrapper) == 0 else { throw SandboxFailure(description: "cannot install \(Self.wrapper)") }
            try await body(configPath, crontabDir.path)
        }
    }

    /// Tells a write still held to give up, and waits (at most a minute) until nothing of this
    /// test's holds either lock of its state directory on the host.
    static func endHeldWrite(state: String) -> Bool {
        FileManager.default.createFile(atPath: Self.hold + "/abort", contents: nil)
        for _ in 0..<1200 {
            if !FileManager.default.fileExists(atPath: state) || ((try? lockFree("step.lock", state: state) && lockFree("lock", state: state)) ?? false) { return true }
            usleep(50_000)
        }
        return false
    }

    static let wrapperScript = """
        #!/bin/sh
        # botops CronInstallKillSandboxTests: holds crontab FILE for its own state directory only.
        hold=\(hold)
        if [ $# -eq 1 ] && [ -f "$hold/armed" ]; then
          read -r state owner < "$hold/armed"
          case $1 in "$state"/crontab-backups/.new.*)
            echo $$ > "$hold/pid"
            # Until go; status 1 when told to abort, when the test process is gone, or after 2 minutes.
            held() {
              touch "$hold/reached"; waited=0
              while [ ! -e "$hold/go" ]; do
                if [ -e "$hold/abort" ] || [ ! -d "/proc/$owner" ] || [ "$waited" -ge 2400 ]; then return 1; fi
                waited=$((waited + 1)); sleep 0.05
              done
            }
            if [ "$(cat "$hold/mode")" = mid ]; then
              # Given up mid-way, crontab gets a line it refuses: nothing is installed.
              { head -c 40 "$1"; if held; then tail -c +41 "$1"; else printf '\\nnot a crontab line\\n'; fi; } | /usr/bin/crontab -
              exit $?
            fi
            held || exit 1 ;;
          esac
        fi
        exec /usr/bin/crontab "$@"

        """

    /// Set when this process got SIGINT or SIGTERM during a scene: no botops is started after it.
    static let launchesStopped = Atomic<Bool>(false)

    /// This process's botops children running with a config in `directory` (the scene's own).
    static func botopsProcesses(using directory: String) -> [pid_t] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { name in
            guard let pid = pid_t(name), let line = try? String(contentsOfFile: "/proc/\(name)/cmdline", encoding: .utf8),
                  line.hasPrefix(BuiltBinary.botops.path + "\0"), line.contains(directory + "/") else { return nil }
            return pid
        }
    }

    func start(_ config: String, _ crontabDir: String) throws -> Process {
        guard !Self.launchesStopped.load(ordering: .sequentiallyConsistent) else { throw SandboxFailure(description: "interrupted") }
        let botops = Process()
        botops.executableURL = URL(fileURLWithPath: BuiltBinary.botops.path)
        botops.arguments = ["cron", "install", "--config", config, "--crontab-dir", crontabDir]
        botops.standardOutput = FileHandle.nullDevice
        botops.standardError = FileHandle.nullDevice
        try botops.run()
        return botops
    }

    func install(_ config: String, _ crontabDir: String, _ more: String...) async throws -> CommandResult {
        guard !Self.launchesStopped.load(ordering: .sequentiallyConsistent) else { throw SandboxFailure(description: "interrupted") }
        return try await BuiltBinary.botops.run(["cron", "install", "--config", config, "--crontab-dir", crontabDir] + more)
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
        try Self.lockFree(name, state: state)
    }

    static func lockFree(_ name: String, state: String) throws -> Bool {
        try runProgram(["flock", "-n", "\(state)/\(name)", "true"]).status == 0
    }

    func backups() throws -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: state + "/crontab-backups")) ?? []).filter { CrontabBackups.isBackupName($0) }
    }

    func crontab() throws -> String { String(decoding: try SandboxCrontab.read() ?? [], as: UTF8.self) }

    func isNewInFull(_ text: String) -> Bool {
        text.hasPrefix(Self.before) && text.hasSuffix(" then run botops cron install)\n\(Self.line)\n# END botops kill\n")
            && text.contains("\n# BEGIN botops kill (")
    }

    /// Processes on the host whose command line names `text` (this test's unique state directory).
    func processes(mentioning text: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { Int32($0) != nil }.compactMap { pid in
            guard let line = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8), line.contains(text) else { return nil }
            return "\(pid): " + line.replacingOccurrences(of: "\0", with: " ").prefix(80)
        }
    }

    /// `flock -w … step.lock` processes on the host working in this test's state directory.
    func waitingForTheStepLock() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { pid in
            guard Int32(pid) != nil, let line = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8) else { return false }
            return line.hasPrefix("flock\0-w\0") && line.contains("step.lock")
                && (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")) == state
        }
    }

    @Test func aTestThatEndsAtTheHoldLeavesNothingOfItsOwnRunningOnTheHost() async throws {
        struct EndsHere: Error {}
        var botops: Process?
        defer { if let botops, botops.isRunning { kill(botops.processIdentifier, SIGKILL) } }
        do {
            try await scene(stop: .midWrite) { config, dir in
                botops = try start(config, dir)
                try await reached()
                throw EndsHere()  // as a failing #require would, with the write held mid-way
            }
            Issue.record("the scene went on past the hold")
        } catch is EndsHere {}
        #expect(processes(mentioning: state).isEmpty, "left running on the host: \(processes(mentioning: state))")
        try await waitFor("botops to end, its write given up") { botops?.isRunning == false }
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
            // The refusal's advice, followed: a rerun with --lock-wait waits on the host for the
            // write (its `flock -w` runs in our state directory), then finds nothing to change.
            let patient = Task { try await install(config, dir, "--lock-wait", "2m") }
            try await waitFor("the rerun to wait for the write") { !waitingForTheStepLock().isEmpty }
            FileManager.default.createFile(atPath: Self.hold + "/go", contents: nil)
            let rerun = try await patient.value
            #expect(rerun.termination == .exited(0), "\(rerun.stdoutText)\(rerun.stderrText)")
            #expect(rerun.stdoutText.contains("no changes"), "\(rerun.stdoutText)")
            let after = try crontab()
            #expect(isNewInFull(after), "\(after)")
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
            let group = String(decoding: try runProgram(["ps", "-o", "pgid=", "-p", pid]).stdout, as: UTF8.self).trimmingCharacters(in: .whitespaces.union(.newlines))
            let leader = try #require(pid_t(group), "no process group for \(pid)")
            // Only the group of this test's write: the wrapper's, led by the command naming our state directory.
            let commandLine = { (process: String) in (try? String(contentsOfFile: "/proc/\(process)/cmdline", encoding: .utf8)) ?? "" }
            try #require(commandLine(pid).contains(Self.wrapper) && commandLine(group).contains(state), "process \(pid) is not this test's held write")
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
            // Signalled once: the pid is not ours to signal again after the session has ended.
            var frozen = true
            func endSession() {
                guard frozen else { return }
                frozen = false
                kill(session, SIGCONT)
                kill(session, SIGTERM)
            }
            defer { endSession() }
            let result = try await run.value
            #expect(result.termination == .exited(3), "\(result.stdoutText)\(result.stderrText)")
            #expect(result.stderrText.contains("connection lost to 127.0.0.1"), "\(result.stderrText)")
            #expect(result.stderrText.contains("Re-run"), "\(result.stderrText)")
            // The host side goes on without botops: the write ends whole.
            FileManager.default.createFile(atPath: Self.hold + "/go", contents: nil)
            endSession()
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

/// Runs `cleanUp` when this process gets SIGINT or SIGTERM, then ends it by that signal as it
/// would have ended without; `cancel` gives the signals their previous handling back.
final class CleanUpOnSignal {
    private var sources: [any DispatchSourceSignal] = []
    private var previous: [(Int32, sighandler_t?)] = []

    init(_ cleanUp: @escaping @Sendable () -> Void) {
        for number in [SIGINT, SIGTERM] {
            previous.append((number, signal(number, SIG_IGN)))
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                cleanUp()
                signal(number, SIG_DFL)
                raise(number)
            }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
        for (number, handler) in previous { signal(number, handler) }
    }
}
