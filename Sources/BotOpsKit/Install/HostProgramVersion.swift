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
    /// It printed nothing and did not end within `timeLimit` (a hung binary: a library that
    /// blocks on load, a full disk under its home).
    case timedOut(seconds: Int)

    /// `--version`'s own time limit, so a hung binary cannot hang status or install-host.
    public static let timeLimit = 10
    /// The line `script` starts with when the host has no `timeout` (coreutils): `--version` then
    /// runs without a time limit, bounded only by the whole command's.
    static let noTimeLimit = "no timeout"

    /// Prints `not installed`, or (`noTimeLimit` first when there is no `timeout`) the exit status
    /// then the output. A subshell, so its variables stay apart from those of the command it is a
    /// section of.
    public static func script(_ homeRelativePath: String, timeLimit: Int = timeLimit) -> ShellScript {
        "(p=\"$HOME\"/\(homeRelativePath); [ -x \"$p\" ] || { echo 'not installed'; exit 0; }; t='timeout \(timeLimit)'; command -v timeout >/dev/null 2>&1 || { t=''; echo '\(noTimeLimit)'; }; out=$($t \"$p\" --version 2>&1); printf '%s\\n%s\\n' \"$?\" \"$out\")"
    }

    /// The lines `script` printed.
    public static func parse(_ lines: [String], timeLimit: Int = timeLimit) throws(UnreadableOutput) -> HostProgramVersion {
        let limited = lines.first != noTimeLimit
        let lines = limited ? lines : Array(lines.dropFirst())
        guard let first = lines.first else { throw UnreadableOutput("nothing printed") }
        if first == "not installed" { return .notInstalled }
        guard let status = Int(first) else { throw UnreadableOutput("no exit status") }
        let output = lines.dropFirst()
        // timeout(1)'s own status; a --version that exits 124 itself is read so too.
        if limited, status == 124 { return .timedOut(seconds: timeLimit) }
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
