import Cron
import Foundation
import HostCommands
import Remote

/// Something went wrong reading or writing the host's crontab. Nothing was written unless the
/// message says so.
public enum CronHostError: Error, Equatable, CustomStringConvertible, ExitCodeProviding {
    /// `crontab -l` failed for another reason than "no crontab".
    case readFailed(status: String, stderr: String)
    case zoneUnknown(detail: String)
    /// The host's tz database disagrees with botops' about a zone an entry uses.
    case zoneMismatch(zone: String, detail: String)
    /// Someone changed the crontab between botops reading it and writing it.
    case changedMeanwhile
    /// `crontab FILE` refused the new crontab (cron's own message).
    case installRefused(stderr: String)
    case backupMissing(name: String)
    case noBackups
    case commandFailed(step: String, status: String, stderr: String)

    public var description: String {
        switch self {
        case .readFailed(let status, let stderr):
            return "crontab -l failed (\(status)): \(stderr.trimmingCharacters(in: .whitespacesAndNewlines)). Nothing was written; check that cron is installed and this user may use crontab."
        case .zoneUnknown(let detail):
            return "cannot tell the host's time zone: \(detail). Make /etc/localtime a link into /usr/share/zoneinfo (timedatectl set-timezone UTC)."
        case .zoneMismatch(let zone, let detail):
            return "the host's time zone data for \(zone) differs from botops' (\(detail)). Nothing was written; update the tzdata package on the host."
        case .changedMeanwhile:
            return "the crontab changed while botops was working on it. Nothing was written; run botops cron diff again."
        case .installRefused(let stderr):
            return "crontab refused the new crontab: \(stderr.trimmingCharacters(in: .whitespacesAndNewlines)). The old crontab is still installed."
        case .backupMissing(let name):
            return "no crontab backup named \(name); list them with botops cron restore --list."
        case .noBackups:
            return "there are no crontab backups on the host yet (botops makes one before every change)."
        case .commandFailed(let step, let status, let stderr):
            return "\(step) failed (\(status)): \(stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
        }
    }

    public var exitCode: BotOpsExitCode { .failed }
}

/// An entry's program the host does not have: the job would fail at every fire.
public struct MissingProgram: Equatable, Sendable {
    public let entry: String
    public let program: String

    public var warning: String {
        "warning: entry \(entry) runs \(program), which is not on the host (no executable file there, or not on cron's PATH /usr/bin:/bin): the job will fail at every fire. Install it, or change crontab.d/\(entry)\(CronEntry.fileExtension)."
    }
}

/// The host's cron: reads the crontab, the zone and the daemon's kind; writes the crontab
/// atomically with `crontab FILE` after backing up the one it replaces.
public struct CronHost: Sendable {
    public let runner: any CommandRunner
    /// Backups go to `crontab-backups` in it.
    public let state: StateDirectory

    public init(runner: any CommandRunner, state: StateDirectory) {
        self.runner = runner
        self.state = state
    }

    private var backupStore: CrontabBackups { CrontabBackups(state: state) }

    /// Runs a script that only reads; fails with `step` in the message.
    private func read(_ script: ShellScript, _ step: String) async throws -> CommandResult {
        let result = try await runner.run(RemoteCommand(script, timeout: .seconds(30))).result
        guard result.succeeded else {
            throw CronHostError.commandFailed(step: step, status: result.termination.description, stderr: String(result.stderrText.prefix(400)))
        }
        return result
    }

    /// The user's crontab. "no crontab for USER" is an empty one; any other failure throws, so a
    /// caller never writes a crontab built on a failed read.
    public func readCrontab() async throws -> Crontab {
        // Its own command (not the sectioned one) so the crontab's bytes come back unchanged.
        let result = try await runner.run(RemoteCommand(CrontabListing.command, timeout: .seconds(30))).result
        if result.succeeded { return Crontab(bytes: result.stdout) }
        if case .exited(let status) = result.termination, CrontabListing(status: status, output: [result.stderrText]) == .noCrontab { return .empty }
        throw CronHostError.readFailed(status: result.termination.description, stderr: String(result.stderrText.prefix(400)))
    }

    /// The zone the cron daemon schedules in, and whether it honours `CRON_TZ` (cronie does;
    /// Debian's and Ubuntu's cron do not; an unknown cron is treated as not honouring it, which
    /// only costs the guard).
    public func readTime() async throws -> CronHostTime {
        let result = try await read(CronTimeProbe.script, "reading the host's time zone")
        do {
            return try CronTimeProbe.parse(result)
        } catch {
            throw CronHostError.zoneUnknown(detail: error.detail)
        }
    }

    /// The programs of `entries` the host cannot run: an absolute path that is not an executable
    /// file, or a bare name cron's PATH (`/usr/bin:/bin`) does not find. One round trip. Words
    /// with `$` or a relative path are not judged (their meaning depends on the job's shell),
    /// except `$HOME/…` (`~/botops/bin/botops`): cron sets HOME to the crontab user's, as ssh does.
    public func missingPrograms(_ entries: [CronEntry]) async throws -> [MissingProgram] {
        var wanted: [MissingProgram] = []
        for entry in entries {
            for program in entry.parsedCommand.programs where !Self.homeRelative(program).contains("$") && (program.hasPrefix("/") || Self.isHomeRelative(program) || !program.contains("/")) {
                let candidate = MissingProgram(entry: entry.name, program: program)
                if !wanted.contains(candidate) { wanted.append(candidate) }
            }
        }
        guard !wanted.isEmpty else { return [] }
        return try await Self.missingProbe(wanted).run(on: runner)
    }

    /// Which of `wanted` the host lacks: each program tested as cron would find it, the index of
    /// each missing one printed.
    static func missingProbe(_ wanted: [MissingProgram]) -> HostProbe<[MissingProgram]> {
        let tests = wanted.enumerated().map { index, item -> ShellScript in
            let path: ShellScript = Self.isHomeRelative(item.program) ? "\"$HOME\"/\(Self.homeRelative(item.program))" : "\(item.program)"
            return item.program.hasPrefix("/") || Self.isHomeRelative(item.program)
                ? "{ [ -f \(path) ] && [ -x \(path) ]; } || echo \(index)"
                : "(PATH=/usr/bin:/bin; command -v \(item.program) >/dev/null 2>&1) || echo \(index)"
        }
        return HostProbe("the entries' programs", RemoteCommand(ShellScript.lines(tests + ["true"]), timeout: .seconds(30))) { result in
            guard result.succeeded else {
                throw CronHostError.commandFailed(step: "looking for the entries' programs", status: result.termination.description, stderr: String(result.stderrText.prefix(400)))
            }
            let missing = Set(result.stdoutText.split(separator: "\n").compactMap { Int($0) })
            return wanted.enumerated().filter { missing.contains($0.offset) }.map(\.element)
        }
    }

    private static func isHomeRelative(_ program: String) -> Bool { program.hasPrefix("$HOME/") }

    /// `program` past a leading `$HOME/`, the rest of the path under the home directory.
    private static func homeRelative(_ program: String) -> String {
        isHomeRelative(program) ? String(program.dropFirst("$HOME/".count)) : program
    }

    /// Refuses zones the host's tz database knows differently (or not at all): a guard whose
    /// `TZ=` the host cannot read would compare against UTC.
    public func checkZonesAgree(_ zones: [CronZone], now: Int64) async throws {
        for zone in Set(zones) where zone != .utc {
            let instants = Self.checkedInstants(zone, now: now)
            let fact: ZoneOffsetsProbe.Fact
            do {
                fact = try await ZoneOffsetsProbe.probe(zone, at: instants).run(on: runner)
            } catch let unreadable as ProbeOutputError {
                throw CronHostError.zoneMismatch(zone: zone.identifier, detail: "\(unreadable.problem): \(unreadable.output.prefix(200))")
            }
            if let refusal = Self.disagreement(zone, at: instants, host: fact) { throw refusal }
        }
    }

    /// Now, and an hour either side of each of the zone's transitions in the next two years.
    static func checkedInstants(_ zone: CronZone, now: Int64) -> [Int64] {
        [now] + zone.transitions(from: now, to: now + 2 * 366 * 86_400).flatMap { [$0 - 3600, $0 + 3600] }
    }

    /// The refusal when the host's offsets of `zone` at `instants` are not botops'.
    static func disagreement(_ zone: CronZone, at instants: [Int64], host: ZoneOffsetsProbe.Fact) -> CronHostError? {
        switch host {
        case .missing:
            return .zoneMismatch(zone: zone.identifier, detail: "the host has no /usr/share/zoneinfo/\(zone.identifier)")
        case .offsets(let offsets):
            let expected = instants.map { zone.offset(at: $0) }
            guard offsets != expected else { return nil }
            return .zoneMismatch(zone: zone.identifier, detail: "offsets \(offsets.map(ZoneOffsetsProbe.text)) on the host, \(expected.map(ZoneOffsetsProbe.text)) expected")
        }
    }

    /// Installs `new` with `crontab FILE` if the crontab is still `expected`, after saving the
    /// current one as a backup. Returns the backup's name.
    public func write(_ new: Crontab, replacing expected: Crontab) async throws -> String {
        try await backUpAndInstall(source: .content(new), expected: expected)
    }

    /// Puts a backup back (the newest when `name` is nil), after backing up the current crontab.
    /// Returns the backup that was restored.
    public func restore(_ name: String?) async throws -> String {
        if let name, !CrontabBackups.isBackupName(name) { throw CronHostError.backupMissing(name: name) }
        let chosen: String
        if let name {
            chosen = name
        } else {
            guard let newest = try await backups().last else { throw CronHostError.noBackups }
            chosen = newest.name
        }
        _ = try await backUpAndInstall(source: .backup(chosen), expected: nil)
        return chosen
    }

    /// The backups on the host, oldest first.
    public func backups() async throws -> [CrontabBackup] {
        let result = try await read(backupStore.listCommand.script, "listing crontab backups")
        return CrontabBackups.parseList(result.stdoutText)
    }

    /// The bytes of one backup.
    public func backup(_ name: String) async throws -> Crontab {
        guard CrontabBackups.isBackupName(name) else { throw CronHostError.backupMissing(name: name) }
        let result = try await runner.run(backupStore.readCommand(name)).result
        guard result.succeeded else { throw CronHostError.backupMissing(name: name) }
        return Crontab(bytes: result.stdout)
    }

    private enum Source {
        case content(Crontab)
        case backup(String)
    }

    private static let statusReadFailed: Int32 = 91
    private static let statusChanged: Int32 = 92
    private static let statusInstallRefused: Int32 = 95
    private static let statusBackupMissing: Int32 = 96

    /// One script on the host, so the check, the backup and the install happen back to back,
    /// under the step lock.
    private func backUpAndInstall(source: Source, expected: Crontab?) async throws -> String {
        var steps: [ShellScript] = [
            "umask 077",
            "dir=\(backupStore.directory)",
            "mkdir -p \"$dir\" || exit 90",
            "cur=\"$dir/.current.$$\"; new=\"$dir/.new.$$\"; err=\"$dir/.err.$$\"; old=\"$dir/.expected.$$\"",
            "trap 'rm -f \"$cur\" \"$new\" \"$err\" \"$old\"' EXIT",
            // CrontabListing's rule, in the shell: status 1 is "no crontab" only when crontab says so.
            "\(CrontabListing.command) >\"$cur\" 2>\"$err\"; st=$?",
            """
            if [ $st -ne 0 ]; then
              if [ $st -eq 1 ] && grep -qF -- \(CrontabListing.noCrontabMessage) "$err"; then : >"$cur"; else cat "$err" >&2; exit \(Int(Self.statusReadFailed)); fi
            fi
            """,
        ]
        if let expected {
            steps.append("printf '%s' \(Data(expected.bytes).base64EncodedString()) | base64 -d >\"$old\" || exit 93")
            steps.append("cmp -s \"$cur\" \"$old\" || exit \(Int(Self.statusChanged))")
        }
        switch source {
        case .content(let crontab):
            steps.append("printf '%s' \(Data(crontab.bytes).base64EncodedString()) | base64 -d >\"$new\" || exit 93")
        case .backup(let name):
            steps.append("[ -f \"$dir\"/\(name) ] || exit \(Int(Self.statusBackupMissing))")
            steps.append("cp \"$dir\"/\(name) \"$new\" || exit 93")
        }
        steps += [
            CrontabBackups.saveScript,
            "crontab \"$new\" || exit \(Int(Self.statusInstallRefused))",
            CrontabBackups.pruneScript,
            "echo \"$backup\"",
        ]
        // Under the step lock, as a deploy's changing step: a write that outlives its botops
        // (killed, connection lost) keeps the lock's next taker waiting until it has ended.
        let locked: ShellScript = """
            \(state.prepare) || exit 90
            \(StepRunner.underStepLock(ShellScript.lines(steps).text, label: "botops cron: the crontab write", state: state))
            """
        let effect = RemoteCommand.Effect.changes("backs up the crontab to \(state.path)/crontab-backups and installs a new one")
        let result = try await runner.run(RemoteCommand(locked, timeout: .seconds(60), effect: effect)).result
        switch result.termination {
        case .exited(0):
            return result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        case .exited(Self.statusReadFailed):
            throw CronHostError.readFailed(status: "while writing", stderr: result.stderrText)
        case .exited(Self.statusChanged):
            throw CronHostError.changedMeanwhile
        case .exited(Self.statusInstallRefused):
            throw CronHostError.installRefused(stderr: result.stderrText)
        case .exited(Self.statusBackupMissing):
            if case .backup(let name) = source { throw CronHostError.backupMissing(name: name) }
            throw CronHostError.noBackups
        default:
            throw CronHostError.commandFailed(step: "writing the crontab", status: result.termination.description, stderr: result.stderrText)
        }
    }
}
