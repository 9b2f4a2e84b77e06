import Cron
import HostCommands
import Remote

/// The host-side files the first three checks look at, and the host's clock, read in one command.
struct HostFacts: Sendable, Equatable {
    struct FileStat: Sendable, Equatable {
        var kind: String
        var octalMode: String
        var symbolicMode: String
        var owner: String
        var size: Int
        var modified: Int

        var isRegular: Bool { isRegularFileKind(kind) }
    }

    /// The user's crontab, as every reader of it reads it.
    var crontab: CrontabListing
    var script: FileStat?
    /// A regular file the ssh user may execute (`ReportRun.runnable`).
    var scriptExecutable: Bool
    /// Per configured query, in order: nil when missing.
    var queries: [String: FileStat?]
    /// Whether a cron daemon process runs: false when none does, nil when the host cannot tell
    /// (no pgrep). An installed entry without a daemon never fires.
    var cronDaemonRunning: Bool? = true
    /// Configured queries that exist but hold nothing but whitespace.
    var blankQueries: Set<String> = []
    /// The host's clock.
    var now: Int
    /// The zone the cron daemon schedules in and which daemon it is (the cron module's probe).
    var cronTime: Result<CronHostTime, CronTimeProbeError>

    /// The probe: the crontab, the cron daemon, the script, the clock, the cron zone and every
    /// configured query, in one round trip, in sections `marker` starts.
    static func probe(_ settings: CheckSettings, marker: SectionMarker) -> HostProbe<HostFacts> {
        let script = settings.path(settings.reportScript)
        var lines: [ShellScript] = [
            CrontabListing.sections(marker),
            "\(marker.start("cron-daemon")); \(CronDaemonProbe.script)",
            "\(marker.start("script")); \(statCommand(script))",
            "if \(ReportRun.runnable(script)); then echo executable; else echo not-executable; fi",
            HostClock.section(marker),
            CronTimeProbe.section(marker),
        ]
        // Sections are numbered: a query's name never reaches the shell except quoted in its path.
        for (index, query) in settings.queries.enumerated() {
            let path = settings.path("queries/" + query)
            lines.append("\(marker.start("query-\(index)")); \(statCommand(path)); grep -qs '[^[:space:]]' -- \(path) || echo blank")
        }
        let command = RemoteCommand(.lines(lines), timeout: settings.commandTimeout)
        return HostProbe("host file probe", command) { result in
            try parse(result, queries: settings.queries, marker: marker)
        }
    }

    static func parse(_ result: CommandResult, queries configured: [String], marker: SectionMarker) throws -> HostFacts {
        let sections = marker.split(result.stdoutText)
        guard let crontab = CrontabListing(sections: sections) else {
            throw UnreadableOutput("no crontab status")
        }
        let now = try HostClock.parse(sections: sections)
        let scriptLines = sections["script"] ?? []
        var queries: [String: FileStat?] = [:]
        var blankQueries: Set<String> = []
        for (index, query) in configured.enumerated() {
            let lines = sections["query-\(index)"] ?? []
            queries[query] = parseStat(lines.first)
            if lines.dropFirst().contains("blank") { blankQueries.insert(query) }
        }
        return HostFacts(
            crontab: crontab,
            script: parseStat(scriptLines.first),
            scriptExecutable: scriptLines.contains("executable"),
            queries: queries,
            cronDaemonRunning: CronDaemonProbe.parse(sections["cron-daemon"]?.first),
            blankQueries: blankQueries,
            now: now,
            cronTime: Result { () throws(CronTimeProbeError) in try CronTimeProbe.parse(sections: sections) })
    }

    /// In the C locale: the host's own (`LANG=de_DE.UTF-8`) translates `%F` ("reguläre Datei").
    static func statCommand(_ path: String) -> ShellScript {
        "LC_ALL=C stat -L -c '%F|%a|%A|%U|%s|%Y' -- \(path) 2>/dev/null || echo missing"
    }

    static func parseStat(_ line: String?) -> FileStat? {
        guard let fields = line?.split(separator: "|", omittingEmptySubsequences: false), fields.count == 6 else { return nil }
        return FileStat(kind: String(fields[0]), octalMode: String(fields[1]), symbolicMode: String(fields[2]),
                        owner: String(fields[3]), size: Int(fields[4]) ?? 0, modified: Int(fields[5]) ?? 0)
    }
}

/// `stat -c %F` says "regular file", or "regular empty file" for a regular file of size 0.
func isRegularFileKind(_ kind: String) -> Bool { kind.hasPrefix("regular") }
