import Cron
import HostCommands
import Remote

/// crontab.d as committed at the HEAD of the host's checkout: what recover installs, so that a
/// recovery puts back the schedule of the code the host runs, not whatever the operator's own
/// crontab.d holds today.
struct HostCrontabEntries: Sendable {
    let config: BotOpsConfig
    let marker = SectionMarker()

    /// HEAD's revision, then each `crontab.d/*.cron` at that revision after its own marker line:
    /// HEAD is read once, so a commit landing meanwhile cannot mix two revisions' files. Only names
    /// an entry may have are read (git quotes any other, and no entry could carry it).
    var command: RemoteCommand {
        RemoteCommand(ShellScript.lines([
            "cd \(config.path) 2>/dev/null || exit 0",
            // FIXME: HEAD is read here with its own git command, not gitStateProbe's `GitRead.head`:
            // the files must come from the very revision printed, so the script needs it in a
            // variable (gitRead prints it only), and no HEAD is an answer here (recover installs
            // the local crontab.d) where gitRead's callers refuse it. One read would need gitRead
            // to keep its answer in a shell variable: its stdout goes straight out through fd 3 so that
            // stderr stays apart, and a second `git rev-parse` could name another revision. Recover
            // sends no gitStateProbe of its own, so this read costs no extra round trip.
            marker.start("head"), "rev=$(git rev-parse --verify -q HEAD) || exit 0", "echo \"$rev\"",
            """
            git ls-tree --name-only "$rev" -- crontab.d/ | while IFS= read -r p; do
              case $p in crontab.d/*[!A-Za-z0-9._-]*) ;; crontab.d/*.cron) \(marker.start("file")) "$p"; git show "$rev:$p"; echo ;; esac
            done
            """,
            marker.start("end"),
        ]), timeout: .seconds(30))
    }

    /// The entries and the revision they came from; nil when HEAD holds no crontab.d (or there is
    /// no checkout): recover then installs the operator's crontab.d, and says so.
    func parse(_ stdout: String) throws -> (revision: String, entries: [CronEntry])? {
        let sections = marker.split(stdout)
        guard sections["end"] != nil, let revision = sections["head"]?.first, !revision.isEmpty else { return nil }
        let files = sections.filter { $0.key.hasPrefix("file crontab.d/") }.sorted { $0.key < $1.key }
        guard !files.isEmpty else { return nil }
        return (revision, try files.map { key, printed in
            // The `echo` after each file ends a last line without a newline; it adds one empty line otherwise.
            let lines = printed.last == "" ? printed.dropLast() : printed[...]
            let path = String(key.dropFirst("file ".count))
            let name = String(path.dropFirst("crontab.d/".count).dropLast(CronEntry.fileExtension.count))
            return try CronEntry.parse(lines.joined(separator: "\n") + "\n", name: name, source: "HEAD \(revision.prefix(12)):\(path)")
        })
    }
}
