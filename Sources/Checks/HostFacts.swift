import Cron
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

    /// `crontab -l` exit status: 0 listed, 1 no crontab (empty), anything else an error.
    var crontabStatus: Int32
    var crontabLines: [String]
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

    static func gather(_ context: CheckContext) async throws -> HostFacts {
        let settings = context.settings
        let marker = context.marker
        let script = shellQuote(settings.path(settings.reportScript))
        var command = """
            echo \(marker) crontab; crontab -l 2>&1; status=$?; echo \(marker) crontab-status; echo $status
            echo \(marker) cron-daemon; \(CronDaemonProbe.script.text)
            echo \(marker) script; \(statCommand(script))
            if \(ReportRun.runnable(script)); then echo executable; else echo not-executable; fi
            echo \(marker) now; date '+%s'
            echo \(marker) cron-time
            \(CronHostTime.probeScript)
            """
        // Sections are numbered: a query's name never reaches the shell except quoted in its path.
        for (index, query) in settings.queries.enumerated() {
            let path = shellQuote(settings.path("queries/" + query))
            command += "\necho \(marker) query-\(index); \(statCommand(path)); grep -qs '[^[:space:]]' -- \(path) || echo blank"
        }
        let result = try await context.run(command)
        let sections = context.sections(result.stdoutText)
        guard let status = sections["crontab-status"]?.first.flatMap({ Int32($0) }),
              let now = sections["now"]?.first.flatMap({ Int($0) }) else {
            throw CheckError.unexpectedOutput(command: "host file probe", output: result.stdoutText + result.stderrText)
        }
        let scriptLines = sections["script"] ?? []
        var queries: [String: FileStat?] = [:]
        var blankQueries: Set<String> = []
        for (index, query) in settings.queries.enumerated() {
            let lines = sections["query-\(index)"] ?? []
            queries[query] = parseStat(lines.first)
            if lines.dropFirst().contains("blank") { blankQueries.insert(query) }
        }
        return HostFacts(
            crontabStatus: status,
            crontabLines: sections["crontab"] ?? [],
            script: parseStat(scriptLines.first),
            scriptExecutable: scriptLines.contains("executable"),
            queries: queries,
            cronDaemonRunning: CronDaemonProbe.parse(sections["cron-daemon"]?.first),
            blankQueries: blankQueries,
            now: now,
            cronTime: Result { () throws(CronTimeProbeError) in try CronHostTime(probeOutput: sections["cron-time"] ?? []) })
    }

    static func statCommand(_ quotedPath: String) -> String {
        "stat -L -c '%F|%a|%A|%U|%s|%Y' -- \(quotedPath) 2>/dev/null || echo missing"
    }

    static func parseStat(_ line: String?) -> FileStat? {
        guard let fields = line?.split(separator: "|", omittingEmptySubsequences: false), fields.count == 6 else { return nil }
        return FileStat(kind: String(fields[0]), octalMode: String(fields[1]), symbolicMode: String(fields[2]),
                        owner: String(fields[3]), size: Int(fields[4]) ?? 0, modified: Int(fields[5]) ?? 0)
    }
}

/// `stat -c %F` says "regular file", or "regular empty file" for a regular file of size 0.
func isRegularFileKind(_ kind: String) -> Bool { kind.hasPrefix("regular") }

enum CheckError: Error, CustomStringConvertible {
    case unexpectedOutput(command: String, output: String)

    var description: String {
        switch self {
        case let .unexpectedOutput(command, output):
            return "\(command) printed something botops cannot read: \(output.prefix(300))"
        }
    }
}
