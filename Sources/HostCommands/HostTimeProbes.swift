import Cron
import Foundation
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

/// The offsets from UTC the host's tz database gives a zone at given instants, as `date +%z`
/// prints them. The one reading of them: cron's guard against a host whose zone data differs from
/// botops' (a guard whose `TZ=` the host cannot read would compare against UTC).
public enum ZoneOffsetsProbe {
    public enum Fact: Sendable, Equatable {
        /// The host has no `/usr/share/zoneinfo/ZONE`.
        case missing
        /// Seconds east of UTC at each instant, in order.
        case offsets([Int])
    }

    public static func script(_ zone: CronZone, at instants: [Int64]) -> ShellScript {
        let dates = ShellScript.lines(instants.map { "TZ=\(zone.identifier) date -d \("@\($0)") +%z" })
        return "[ -f \("/usr/share/zoneinfo/" + zone.identifier) ] || { echo missing; exit 0; }\n\(dates)"
    }

    /// The fact in the output of `script` for `count` instants.
    public static func parse(_ result: CommandResult, count: Int) throws(UnreadableOutput) -> Fact {
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        if lines == ["missing"] { return .missing }
        guard result.succeeded else { throw UnreadableOutput("date failed: \(result.stderrText.prefix(200))") }
        var offsets: [Int] = []
        for line in lines {
            guard let offset = seconds(line) else { throw UnreadableOutput("not an offset: \(line.prefix(40))") }
            offsets.append(offset)
        }
        guard offsets.count == count else { throw UnreadableOutput("\(offsets.count) offsets for \(count) instants") }
        return .offsets(offsets)
    }

    public static func probe(_ zone: CronZone, at instants: [Int64]) -> HostProbe<Fact> {
        HostProbe("the host's offsets of \(zone.identifier)", RemoteCommand(script(zone, at: instants), timeout: .seconds(30))) { result in
            try parse(result, count: instants.count)
        }
    }

    /// `-0800`, as `date +%z` prints it.
    public static func text(_ seconds: Int) -> String {
        let minutes = abs(seconds) / 60
        return (seconds < 0 ? "-" : "+") + String(format: "%02d%02d", minutes / 60, minutes % 60)
    }

    /// The seconds `date +%z` printed as `-0800`; nil for anything else.
    static func seconds(_ text: String) -> Int? {
        let digits = text.dropFirst()
        guard text.count == 5, let sign = text.first, sign == "+" || sign == "-", digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let hours = Int(digits.prefix(2)), let minutes = Int(digits.suffix(2)) else { return nil }
        return (sign == "-" ? -1 : 1) * (hours * 3600 + minutes * 60)
    }
}
