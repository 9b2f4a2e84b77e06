import Foundation
import HostCommands
import Remote

/// One run of the weekly report script and the report files before and after it, in one command
/// (the runbook's checks 6 and 7). It starts with the run, without waiting for db-running and
/// script-executable, so it gates itself on the host: the script runs only if the database
/// container can serve (the same template db-running judges) and the script is runnable.
struct ReportRun: Sendable, Equatable {
    /// A report file as `stat` saw it on the host: identity, modification time (to the
    /// nanosecond, as printed), size, and kind (`regular file`, `directory`, … of the target).
    struct ReportFile: Sendable, Equatable {
        var path: String
        var inode: String
        var modified: String
        var size: Int
        var kind: String

        var isRegular: Bool { isRegularFileKind(kind) }

        var modifiedSeconds: Int { Int(modified.prefix { $0 != "." }) ?? 0 }
    }

    enum Outcome: Sendable, Equatable {
        case ran(Termination, startedAt: Int, finishedAt: Int)
        /// The host-side gate did not let the script run, and why.
        case refused(String)
    }

    var outcome: Outcome
    var output: String
    var errorOutput: String
    /// Files matching the report glob just before and just after the run.
    var before: [ReportFile]
    var after: [ReportFile]
    /// The host's clock when the run ended.
    var now: Int
    /// Paths in `after` without a single non-whitespace character.
    var blankFiles: Set<String> = []

    /// Files this run created or changed: with an identity, time and size no file had before
    /// (so a new link to an old report is not new), modified no earlier than the run started
    /// (so neither is a link to an old file outside the glob).
    var written: [ReportFile] {
        let started: Int? = if case .ran(_, let startedAt, _) = outcome { startedAt } else { nil }
        return after.filter { file in
            !before.contains { $0.inode == file.inode && $0.modified == file.modified && $0.size == file.size }
                && started.map { file.modifiedSeconds >= $0 } ?? true
        }
    }

    /// The shell test for "a regular file this user may execute", shared with script-executable.
    /// Braced, so `! runnable` negates the whole test, not just its first half.
    static func runnable(_ path: String) -> ShellScript {
        "{ test -f \(path) && test -x \(path); }"
    }

    /// The run: it changes the host (the script writes a report), so a dry run prints it and never sends it.
    static func probe(_ settings: CheckSettings, marker: SectionMarker) -> HostProbe<ReportRun> {
        let script = settings.path(settings.reportScript)
        let glob = settings.path(settings.reportGlob)
        // In the C locale, for `%F` and `%.9Y` (a German host says "reguläre Datei" and "1796442312,4…");
        // only stat: the script itself runs in the host's locale, as under cron.
        let snapshot: ShellScript = "LC_ALL=C stat -L -c '%i|%.9Y|%s|%F|%n' -- \(glob: glob) 2>/dev/null"
        let gate = ShellScript(stringLiteral: ContainerState.gateCommand(container: settings.databaseContainer))
        // The script runs from the checkout, as cron does with its absolute path.
        let command = RemoteCommand("""
            before=$(\(snapshot))
            gate=$(\(gate) 2>/dev/null) || gate="missing"
            if [ "$gate" != ok ]; then
              \(marker.start("refused")); echo "the database container is $gate"
            elif ! \(runnable(script)); then
              \(marker.start("refused")); echo "the script is not an executable file"
            else
              started=$(\(HostClock.script))
              (cd \(settings.appPath) && exec \(script)); status=$?
              echo; \(marker.start("result")); echo "$status $started $(\(HostClock.script))"
            fi
            \(marker.start("before")); printf '%s\\n' "$before"
            \(marker.start("after")); \(snapshot)
            \(marker.start("with-text")); grep -ls '[^[:space:]]' -- \(glob: glob)
            \(HostClock.section(marker))
            """, timeout: settings.commandTimeout, effect: .changes("runs \(script), which writes a report"))
        return HostProbe("report script run", command) { result in
            try parse(result, marker: marker)
        }
    }

    static func parse(_ result: CommandResult, marker: SectionMarker) throws -> ReportRun {
        let text = result.stdoutText
        let sections = marker.split(text)
        let now = try HostClock.parse(sections: sections)
        let outcome: Outcome
        if let reason = sections["refused"]?.first {
            outcome = .refused(reason)
        } else if let fields = sections["result"]?.first?.split(separator: " "), fields.count == 3,
                  let status = Int32(fields[0]), let started = try? HostClock.parse(String(fields[1])),
                  let finished = try? HostClock.parse(String(fields[2])) {
            outcome = .ran(status > 128 ? .signaled(String(status - 128)) : .exited(status), startedAt: started, finishedAt: finished)
        } else {
            throw UnreadableOutput("neither a refusal nor the script's exit status")
        }
        let after = (sections["after"] ?? []).compactMap(parseFile)
        return ReportRun(
            outcome: outcome,
            output: preamble(text, marker: marker).trimmingCharacters(in: .whitespacesAndNewlines),
            errorOutput: result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines),
            before: (sections["before"] ?? []).compactMap(parseFile),
            after: after,
            now: now,
            blankFiles: Set(after.map(\.path)).subtracting(sections["with-text"] ?? []))
    }

    /// What the run printed before the first marker line (the script's own output).
    private static func preamble(_ output: String, marker: SectionMarker) -> String {
        output.split(separator: "\n", omittingEmptySubsequences: false)
            .prefix { !$0.hasPrefix(marker.text + " ") }
            .joined(separator: "\n")
    }

    private static func parseFile(_ line: String) -> ReportFile? {
        let parts = line.split(separator: "|", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, let size = Int(parts[2]) else { return nil }
        return ReportFile(path: String(parts[4]), inode: String(parts[0]), modified: String(parts[1]), size: size, kind: String(parts[3]))
    }
}
