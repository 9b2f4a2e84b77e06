import Cron
import Remote

/// The host's clock: seconds since 1970 as the host counts them. The one reading of the host's
/// "now" (container uptime, report age, holder idle time, the report run's start and end). It is
/// always read inside a larger command, at the instant of the facts it is compared with, so it is
/// a script to compose and the parser of the line it prints, not a round trip of its own.
public enum HostClock {
    /// Prints the clock as one line.
    public static let script: ShellScript = "date +%s"

    /// The clock in the line `script` printed.
    public static func parse(_ line: String?) throws(UnreadableOutput) -> Int {
        guard let line, let seconds = Int(line.trimmingCharacters(in: .whitespaces)) else {
            throw UnreadableOutput("no host clock")
        }
        return seconds
    }

    /// `script` as section `name` of a sectioned command.
    public static func section(_ marker: SectionMarker, name: String = "now") -> ShellScript {
        "\(marker.start(name)); \(script)"
    }

    /// The clock in section `name` of `sections` (`SectionMarker.split`).
    public static func parse(sections: [String: [String]], name: String = "now") throws(UnreadableOutput) -> Int {
        try parse(sections[name]?.first)
    }
}

/// The zone the host's cron daemon schedules in and which daemon it is. The one probe of it, for
/// verify's cron-scheduled check, its scheduled-runs judgement and the cron commands: each runs
/// `script` (alone or as a section) and reads its lines with `parse`.
public enum CronTimeProbe {
    /// Two lines: how /etc/localtime names the zone, and the cron daemon.
    public static let script = ShellScript(stringLiteral: CronHostTime.probeScript)

    /// The zone and daemon in `script`'s lines; the error says why the zone is unknown.
    public static func parse(_ lines: [String]) throws(CronTimeProbeError) -> CronHostTime {
        try CronHostTime(probeOutput: lines)
    }

    /// The zone and daemon in a run of `script` alone.
    public static func parse(_ result: CommandResult) throws(CronTimeProbeError) -> CronHostTime {
        try parse(result.stdoutText.split(separator: "\n").map(String.init))
    }

    /// `script` as section `name` of a sectioned command.
    public static func section(_ marker: SectionMarker, name: String = "cron-time") -> ShellScript {
        .lines([marker.start(name), script])
    }

    /// The zone and daemon in section `name` of `sections`.
    public static func parse(sections: [String: [String]], name: String = "cron-time") throws(CronTimeProbeError) -> CronHostTime {
        try parse(sections[name] ?? [])
    }
}
