import Checks
import Cron
import Foundation
import HostCommands
import Remote

/// "Did the scheduled run happen?": the nine checks run the report script themselves, so a cron
/// that never fired would go unnoticed. For each crontab.d entry with `# botops: expects GLOB`, the
/// last fire is judged by evidence only the scheduled run leaves: the command's own log (its
/// `>> FILE`) written since the fire, without an error in its tail. A file matching `expects` is
/// not such evidence (verify's report-generation check and every deploy write one too); it is
/// reported when the run wrote it. The verdicts are `ScheduledRunVerdict`s of verify's report.
public struct ScheduledRuns: Sendable {
    public let entries: [CronEntry]
    /// The checkout; relative `expects` patterns are inside it.
    public let appPath: String
    /// The instant judged (seconds since 1970, UTC).
    public let now: Int64
    /// A fire this recent may still be running: the one before it is judged instead.
    public let grace: Int64

    public init(entries: [CronEntry], appPath: String, now: Int64, grace: Int64 = 15 * 60) {
        self.entries = entries
        self.appPath = appPath
        self.now = now
        self.grace = grace
    }

    /// Lines of a cron log that say something went wrong.
    static let errorWords = ["error", "fatal", "failed", "traceback", "permission denied", "not found", "no such file"]

    /// The judged entries: those with `expects`, except `@reboot`.
    var judged: [CronEntry] {
        entries.filter { !$0.expects.isEmpty && !$0.schedule.isReboot }
    }

    /// One round trip for every entry and the host's cron zone, so it can run beside the checks.
    public func check(on host: any CommandRunner) async -> [ScheduledRunVerdict] {
        let entries = judged
        guard !entries.isEmpty else { return [] }
        let facts: HostEvidence
        do {
            facts = try await probe(entries, on: host)
        } catch {
            return entries.map { ScheduledRunVerdict(entry: $0.name, status: .warn, message: "could not look for the evidence of its last fire: \(error)",
                                                     lastFire: nil, output: nil, logError: nil) }
        }
        return entries.enumerated().map { index, entry in
            let evidence = facts.entries[index] ?? EntryEvidence()
            if let zone = entry.zone { return verdict(entry, evidence, zone: zone) }
            switch facts.zone {
            case .success(let zone): return verdict(entry, evidence, zone: zone)
            case .failure(let error): return Self.zoneUnknown(entry, error)
            }
        }
    }

    /// The fire to judge: the last one at least `grace` ago.
    func judgedFire(_ entry: CronEntry, zone: CronZone) -> Int64? {
        entry.schedule.previous(before: now - grace + 1, in: zone)
    }

    /// What the host showed for one entry: its log's modification time and tail, and its newest output.
    struct EntryEvidence: Equatable {
        var logModified: Int64?
        var logTail: [String] = []
        var output: (modified: Int64, path: String)?

        static func == (a: EntryEvidence, b: EntryEvidence) -> Bool {
            a.logModified == b.logModified && a.logTail == b.logTail && a.output?.modified == b.output?.modified && a.output?.path == b.output?.path
        }
    }

    struct HostEvidence {
        /// The host's cron zone, for entries without CRON_TZ (not probed, and UTC, when none needs it).
        var zone: Result<CronZone, CronTimeProbeError>
        var entries: [Int: EntryEvidence]
    }

    /// An entry in the host's zone on a host whose zone is unknown: its fires cannot be placed, so
    /// it is a warning, never a judgement in a guessed zone (UTC would be hours off in New York).
    static func zoneUnknown(_ entry: CronEntry, _ error: CronTimeProbeError) -> ScheduledRunVerdict {
        ScheduledRunVerdict(
            entry: entry.name, status: .warn,
            message: "cannot tell when it last fired: the host's cron time zone is unknown (\(error.detail)). Make /etc/localtime a link into /usr/share/zoneinfo (timedatectl set-timezone ZONE), or give the entry a CRON_TZ line in \(entry.source).",
            lastFire: nil, output: nil, logError: nil)
    }

    func verdict(_ entry: CronEntry, _ evidence: EntryEvidence, zone: CronZone) -> ScheduledRunVerdict {
        guard let fire = judgedFire(entry, zone: zone) else {
            return ScheduledRunVerdict(entry: entry.name, status: .pass, message: "has not fired yet", lastFire: nil, output: nil, logError: nil)
        }
        func result(_ status: ScheduledRunVerdict.Status, _ message: String, output: String? = nil, logError: String? = nil) -> ScheduledRunVerdict {
            ScheduledRunVerdict(entry: entry.name, status: status, message: message, lastFire: fire, output: output, logError: logError)
        }
        let when = "\(zone.local(at: fire)) \(zone.identifier) (\(CronZone.utc.local(at: fire)) UTC)"
        guard let log = entry.logFile.map(path) else {
            return result(.warn, "cannot tell whether the fire at \(when) ran: the command writes no log, the only evidence a scheduled run leaves (a report can come from verify or a deploy). Append '>> logs/\(entry.name)_cron.log 2>&1' to the command in \(entry.source).")
        }
        let patterns = entry.expects.joined(separator: ", ")
        let output = evidence.output.flatMap { $0.modified >= fire ? $0.path : nil }
        guard let written = evidence.logModified, written >= fire else {
            let since = output.map { " (\($0) was written since, but not by the scheduled run: verify and deploys write reports too)" } ?? ""
            return result(.warn, "missed: \(log) was not written since the fire at \(when): the scheduled run did not happen\(since)", output: output)
        }
        // A time after now (a clock stepped back, a file touched by hand) would pass every fire to
        // come; five minutes allow for the two machines' clocks.
        guard written <= now + 5 * 60 else {
            return result(.warn, "cannot tell whether the fire at \(when) ran: \(log) was modified in the future (\(CronZone.utc.local(at: written)) UTC; now \(CronZone.utc.local(at: now)) UTC): was the host's clock stepped back? Check its clock (timedatectl), then touch the log or wait for the next fire.", output: output)
        }
        if let logError = evidence.logTail.last(where: { line in Self.errorWords.contains(where: { line.lowercased().contains($0) }) }) {
            return result(.warn, "the fire at \(when) ran, but its log \(log) shows an error: \(logError)", output: output, logError: logError)
        }
        guard let output else {
            return result(.warn, "the fire at \(when) ran (\(log) written) but nothing matching \(patterns) was written since: see \(log)")
        }
        return result(.pass, "the fire at \(when) ran and wrote \(output)", output: output)
    }

    private func path(_ file: String) -> String {
        file.hasPrefix("/") ? file : appPath + "/" + file
    }

    /// The cron zone probe when an entry needs it, then per entry (numbered, so no host text is a key): the log's
    /// modification time and last 20 lines, and the newest file matching its patterns.
    private func probe(_ entries: [CronEntry], on host: any CommandRunner) async throws -> HostEvidence {
        var lines: [ShellScript] = []
        // The host's zone matters only for entries without CRON_TZ (the shipped ones all have it).
        let needsZone = entries.contains(where: { $0.zone == nil })
        if needsZone {
            lines.append("{ \(CronTimeProbe.script); } | sed 's/^/time /'")
        }
        for (index, entry) in entries.enumerated() {
            lines.append("\(NewestFile.script(entry.expects.map(path))) | sed 's/^/\(index) output /'")
            if let log = entry.logFile.map(path) {
                lines.append("if [ -f \(log) ]; then stat -c '%Y' -- \(log) | sed 's/^/\(index) logtime /'; tail -n 20 -- \(log) | sed 's/^/\(index) log /'; fi")
            }
        }
        lines.append("true")
        let result = try await host.run(RemoteCommand(ShellScript.lines(lines), timeout: .seconds(30))).result
        var timeLines: [String] = []
        var evidence: [Int: EntryEvidence] = [:]
        for line in result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false) {
            let words = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            if words.first == "time" {
                timeLines.append(String(line.dropFirst("time ".count)))
                continue
            }
            guard words.count >= 2, let index = Int(words[0]) else { continue }
            let rest = words.count == 3 ? String(words[2]) : ""
            var entry = evidence[index] ?? EntryEvidence()
            switch words[1] {
            case "output":
                if let file = NewestFile.parse(rest) { entry.output = (file.modified, file.path) }
            case "logtime": entry.logModified = Int64(rest)
            case "log": entry.logTail.append(rest)
            default: break
            }
            evidence[index] = entry
        }
        // An unknown zone: the entries' own zones still hold; the rest are warnings (`zoneUnknown`).
        let zone: Result<CronZone, CronTimeProbeError> = !needsZone ? .success(.utc)
            : Result { () throws(CronTimeProbeError) in try CronTimeProbe.parse(timeLines).zone }
        return HostEvidence(zone: zone, entries: evidence)
    }
}
