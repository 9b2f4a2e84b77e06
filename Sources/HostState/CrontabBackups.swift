import Basics
import HostCommands

/// A crontab backup kept on the host.
public struct CrontabBackup: Equatable, Sendable {
    public let name: String
    public let bytes: Int
}

/// `crontab-backups/` in the state directory: the crontab botops replaced, saved before every
/// change as `crontab-<UTC time>.txt`, the newest `kept` kept. Cron's host side runs these
/// commands; the names, layout and pruning are decided here only.
public struct CrontabBackups: Sendable {
    public let state: StateDirectory
    /// Backups kept; older ones are deleted after each write.
    public static let kept = 20

    public init(state: StateDirectory) {
        self.state = state
    }

    /// The directory as a shell word.
    public var directory: ShellScript { state.file("crontab-backups") }

    /// Lists the backups: one `BYTES NAME` line each (nothing when there are none yet).
    public var listCommand: RemoteCommand {
        RemoteCommand("cd \(directory) 2>/dev/null || exit 0; for f in crontab-*.txt; do [ -f \"$f\" ] && printf '%s %s\\n' \"$(wc -c < \"$f\")\" \"$f\"; done; true",
                      timeout: .seconds(30))
    }

    /// `listCommand`'s output as backups, oldest first; anything not named as botops names them is skipped.
    public static func parseList(_ stdout: String) -> [CrontabBackup] {
        stdout.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let size = Int(parts[0]), isBackupName(parts[1]) else { return nil }
            return CrontabBackup(name: String(parts[1]), bytes: size)
        }.sorted { $0.name < $1.name }
    }

    /// Prints one backup (a name `isBackupName` accepted).
    public func readCommand(_ name: String) -> RemoteCommand {
        RemoteCommand("cat \(state.file("crontab-backups/" + name))", timeout: .seconds(30))
    }

    /// In a script where `$dir` is `directory` and `$cur` the crontab being replaced: saves it as
    /// a new backup, named in `$backup` (exit 94 when it cannot). POSIX sh and tools only (the
    /// tests run it on this machine, a Mac's too): `%N` (nanoseconds) is GNU date's, so where date
    /// prints something else the name keeps its shape with `.000000000`.
    public static let saveScript: ShellScript = """
        now=$(date -u +%Y%m%dT%H%M%S.%N)
        case $now in *.[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;; *) now="${now%.*}.000000000" ;; esac
        backup="crontab-${now}Z.txt"
        cp "$cur" "$dir/$backup" || exit 94
        """

    /// In the same script: deletes all but the newest `kept` backups (newest first, then all after
    /// the first `kept`: `tail -n +N` is POSIX, `head -n -N` GNU's).
    public static let pruneScript: ShellScript =
        "ls \"$dir\" | grep '^crontab-.*\\.txt$' | sort -r | tail -n +\(kept + 1) | while read -r stale; do rm -f \"$dir/$stale\"; done"

    public static func isBackupName(_ name: some StringProtocol) -> Bool {
        name.hasPrefix("crontab-") && name.hasSuffix(".txt") && name.utf8.count < 64
            && name.utf8.allSatisfy { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || $0 == UInt8(ascii: "T") || $0 == UInt8(ascii: "Z") }
    }
}
