import Foundation
import HostCommands
import Remote

/// `~/PATH --version` on the host, for the programs install-host puts under `~/botops/bin`: the
/// one reading of an installed program's version. install-host runs it alone (each staged copy
/// proves itself, then the installed botops); status runs it as a section of its one command (the
/// host's botops against this one).
public enum HostProgramVersion: Sendable, Equatable {
    case notInstalled
    /// The first line it printed.
    case version(String)
    /// It ran and failed: its exit status and what it printed (stdout and stderr).
    case failed(status: Int, output: String)
    /// It did not end within `timeLimit` and was killed (a hung binary: a library that blocks on
    /// load, a full disk under its home).
    case timedOut(seconds: Int)

    /// `--version`'s own time limit, so a hung binary cannot hang status or install-host.
    public static let timeLimit = 10
    /// The line `script` starts with when the host has no `timeout` that works as coreutils'
    /// does (none, or an old BusyBox one that reads `timeout 10 PROG` as running `10`):
    /// `--version` then runs without a time limit, bounded only by the whole command's.
    static let noTimeLimit = "no timeout"
    /// The last line of the output when the program ended by itself, with its exit status (as
    /// `script` prints it): a status of 124 alone would not tell timeout's "timed out" from a
    /// program's own 124.
    static let exitedPrefix = "exited "

    /// Prints `not installed`, or (`noTimeLimit` first when there is no working `timeout`) the
    /// exit status then the output, which ends with `exitedPrefix` and the program's own status
    /// when it ended by itself. `timeout` is tried on `true` first; `-k 5` kills a program that
    /// ignores SIGTERM (the wrapping shell waits for it on SIGTERM, so it cannot leave the program
    /// holding the output open). A subshell, so its variables stay apart from those of the command
    /// it is a section of.
    public static func script(_ homeRelativePath: String, timeLimit: Int = timeLimit) -> ShellScript {
        "(p=\"$HOME\"/\(homeRelativePath); [ -x \"$p\" ] || { echo 'not installed'; exit 0; }; t=''; for c in 'timeout -k 5 \(timeLimit)' 'timeout \(timeLimit)'; do $c true >/dev/null 2>&1 && { t=$c; break; }; done; [ -n \"$t\" ] || echo \(noTimeLimit); out=$($t /bin/sh -c 'trap \"exit 1\" TERM; \"$0\" --version 2>&1; printf \"\\nexited %s\" \"$?\"' \"$p\"); printf '%s\\n%s\\n' \"$?\" \"$out\")"
    }

    /// The lines `script` printed.
    public static func parse(_ lines: [String], timeLimit: Int = timeLimit) throws(UnreadableOutput) -> HostProgramVersion {
        let limited = lines.first != noTimeLimit
        let lines = limited ? lines : Array(lines.dropFirst())
        guard let first = lines.first else { throw UnreadableOutput("nothing printed") }
        if first == "not installed" { return .notInstalled }
        guard var status = Int(first) else { throw UnreadableOutput("no exit status") }
        var output = Array(lines.dropFirst())
        while output.last == "" { output.removeLast() }
        if let last = output.last, last.hasPrefix(exitedPrefix), let own = Int(last.dropFirst(exitedPrefix.count)) {
            status = own
            output.removeLast()
        } else if limited, status == 124 || status == 137 {
            // Killed by timeout(1): 124 after SIGTERM, 137 when `-k` had to send SIGKILL.
            return .timedOut(seconds: timeLimit)
        }
        guard status == 0 else {
            return .failed(status: status, output: output.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return .version((output.first ?? "").trimmingCharacters(in: .whitespaces))
    }

    /// The probe run alone.
    public static func probe(_ homeRelativePath: String) -> HostProbe<HostProgramVersion> {
        HostProbe("~/\(homeRelativePath) --version", RemoteCommand(script(homeRelativePath), timeout: .seconds(30))) { result in
            try parse(result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
        }
    }

    /// `script` as section `name` of a sectioned command.
    public static func section(_ marker: SectionMarker, name: String = "version", _ homeRelativePath: String) -> ShellScript {
        .lines([marker.start(name), script(homeRelativePath)])
    }

    /// The version in section `name` of `sections` (`SectionMarker.split`).
    public static func parse(sections: [String: [String]], name: String = "version") throws(UnreadableOutput) -> HostProgramVersion {
        try parse(sections[name] ?? [])
    }

    /// Whether section `name` says `--version` ran without a time limit (the host has no `timeout`).
    static func ranWithoutTimeLimit(sections: [String: [String]], name: String = "version") -> Bool {
        sections[name]?.first == noTimeLimit
    }
}
