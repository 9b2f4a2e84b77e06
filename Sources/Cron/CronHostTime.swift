/// How the host's cron daemon reads time: its zone, and whether it honours `CRON_TZ` lines.
public struct CronHostTime: Hashable, Sendable {
    /// The zone the daemon schedules in (the host's `/etc/localtime`).
    public var zone: CronZone
    /// cronie honours `CRON_TZ`; Debian's and Ubuntu's cron ignore it.
    public var honoursCronTZ: Bool

    public init(zone: CronZone, honoursCronTZ: Bool) {
        self.zone = zone
        self.honoursCronTZ = honoursCronTZ
    }

    /// How the daemon reads the lines of a crontab (an unknown cron is read as Debian's, the stricter).
    public var daemon: CronDaemon { honoursCronTZ ? .cronie : .debian }

    /// The host probe for the daemon's zone and kind: two lines, parsed by `init(probeOutput:)`.
    /// One probe for verify's cron-scheduled check and for the cron commands.
    public static let probeScript = """
        if [ -L /etc/localtime ]; then printf 'link %s\\n' "$(readlink -f /etc/localtime)"
        elif [ -f /etc/timezone ]; then printf 'name %s\\n' "$(head -n 1 /etc/timezone)"
        elif [ ! -e /etc/localtime ]; then echo 'name UTC'
        else echo 'unknown'; fi
        if command -v rpm >/dev/null 2>&1 && rpm -q cronie >/dev/null 2>&1; then echo cronie
        elif dpkg-query -W -f='${Status}' cronie 2>/dev/null | grep -q 'ok installed'; then echo cronie
        elif dpkg-query -W -f='${Status}' cron 2>/dev/null | grep -q 'ok installed'; then echo debian-cron
        else echo unknown-cron; fi
        """

    /// Reads `probeScript`'s output; the error says why the zone is unknown.
    public init(probeOutput lines: [String]) throws(CronTimeProbeError) {
        guard lines.count == 2 else { throw CronTimeProbeError(detail: "unexpected answer \(lines)") }
        self.init(zone: try Self.zone(fromProbe: lines[0]), honoursCronTZ: lines[1] == "cronie")
    }

    static func zone(fromProbe line: String) throws(CronTimeProbeError) -> CronZone {
        var name = line
        if line.hasPrefix("link ") {
            let target = String(line.dropFirst("link ".count))
            guard let range = target.range(of: "zoneinfo/") else {
                throw CronTimeProbeError(detail: "/etc/localtime points to \(target)")
            }
            name = String(target[range.upperBound...])
            if name.hasPrefix("posix/") { name = String(name.dropFirst("posix/".count)) }
        } else if line.hasPrefix("name ") {
            name = String(Substring(line.dropFirst("name ".count)).trimmingWhitespace())
        }
        guard let zone = CronZone(identifier: name) else {
            throw CronTimeProbeError(detail: line == "unknown" ? "/etc/localtime is a copy and /etc/timezone is missing" : "'\(name)' is not a tz database zone")
        }
        return zone
    }
}

/// The host's cron zone could not be read: `detail` says what was found.
public struct CronTimeProbeError: Error, Equatable, Sendable {
    public var detail: String

    public init(detail: String) {
        self.detail = detail
    }
}

/// How one entry is written into the crontab.
public enum InstallForm: Hashable, Sendable {
    /// The schedule as written: the entry's zone is the one cron reads it in.
    case plain
    /// `CRON_TZ=ZONE`, the line, then `CRON_TZ=` back to the zone in force before.
    case cronTZ
    /// Candidate host-time lines behind a `ZoneGuard`.
    case guarded
}

/// The crontab lines of one entry (without its markers), and why they look as they do.
public struct RenderedEntry: Hashable, Sendable {
    public let form: InstallForm
    public let lines: [String]
    /// Said in `cron diff`: how the entry is installed when that is not the plain line.
    public let note: String?
}

/// An entry that cannot be installed on this host without firing at the wrong time.
public struct RenderError: Error, Equatable, Sendable, CustomStringConvertible {
    public var entry: String
    public var problem: String
    public var description: String { "\(entry): \(problem)" }
}

extension CronEntry {
    /// Years ahead whose UTC offsets the candidate hours cover (and one behind).
    static let horizonSeconds: Int64 = 10 * 366 * 86_400

    /// The entry's lines for a cron that reads time as `host` says, at a position where cron's
    /// zone is `effectiveZone` (a `CRON_TZ=` earlier in the crontab changes it, when honoured).
    public func render(for host: CronHostTime, effectiveZone: CronZone, now: Int64) throws -> RenderedEntry {
        let wanted = zone ?? host.zone
        let from = now - 400 * 86_400
        let to = now + Self.horizonSeconds
        if schedule.isReboot || wanted.agrees(with: effectiveZone, from: from, to: to) {
            return RenderedEntry(form: .plain, lines: ["\(schedule.text) \(command)"], note: nil)
        }
        if host.honoursCronTZ {
            return RenderedEntry(form: .cronTZ,
                                 lines: ["CRON_TZ=\(wanted.identifier)", "\(schedule.text) \(command)", "CRON_TZ=\(effectiveZone.identifier)"],
                                 note: "runs in \(wanted.identifier) through CRON_TZ (this cron honours it)")
        }
        let zoneGuard = ZoneGuard(schedule: schedule, zone: wanted)
        let prefix = zoneGuard.shellPrefix
        guard prefix.utf8.count <= ZoneGuard.maximumBytes else {
            throw RenderError(entry: name, problem: "this cron ignores CRON_TZ and the schedule '\(schedule.text)' is too irregular to guard in one crontab line; split it into several entries")
        }
        guard prefix.utf8.count + command.utf8.count <= Self.maximumCommandBytes + 99 else {
            throw RenderError(entry: name, problem: "with the guard this cron needs (it ignores CRON_TZ) the command would pass the 1000 bytes cron reads; move the command into a script")
        }
        let candidates = try candidateLines(wanted: wanted, cronZone: host.zone, from: from, to: to)
        let lines = candidates.map { "\($0.minutes) \($0.hours) * * * \(prefix)\(command)" }
        let hostName = host.zone.identifier
        return RenderedEntry(
            form: .guarded, lines: lines,
            note: "this cron ignores CRON_TZ and runs in \(hostName): installed as \(lines.count == 1 ? "a line" : "lines") at the \(hostName) times that can be '\(schedule.text)' in \(wanted.identifier), with a guard that runs the command only when it is that time there")
    }

    /// Host-time (minute list, hour list) fields covering every fire under every pair of offsets.
    private func candidateLines(wanted: CronZone, cronZone: CronZone, from: Int64, to: Int64) throws -> [(minutes: String, hours: String)] {
        let wantedOffsets = wanted.offsets(from: from, to: to)
        let cronOffsets = cronZone.offsets(from: from, to: to)
        guard (wantedOffsets.union(cronOffsets)).allSatisfy({ $0 % 60 == 0 }) else {
            throw RenderError(entry: name, problem: "\(wanted.identifier) or \(cronZone.identifier) has a UTC offset that is not whole minutes; cron cannot be guarded for it")
        }
        var minutesByHour: [Int: Set<Int>] = [:]
        for minuteOfDay in schedule.minutesOfDay {
            for wantedOffset in wantedOffsets {
                for cronOffset in cronOffsets {
                    let shifted = (minuteOfDay - wantedOffset / 60 + cronOffset / 60) % 1440
                    let hostMinute = shifted < 0 ? shifted + 1440 : shifted
                    minutesByHour[hostMinute / 60, default: []].insert(hostMinute % 60)
                }
            }
        }
        var groups: [(minutes: [Int], hours: [Int])] = []
        for hour in minutesByHour.keys.sorted() {
            let minutes = (minutesByHour[hour] ?? []).sorted()
            if let index = groups.firstIndex(where: { $0.minutes == minutes }) {
                groups[index].hours.append(hour)
            } else {
                groups.append((minutes, [hour]))
            }
        }
        return groups.map { (cronList($0.minutes, universe: 0...59), cronList($0.hours, universe: 0...23)) }
    }
}

/// A cron field listing `values`: `*`, `16,17`, `0-3,7`.
func cronList(_ values: [Int], universe: ClosedRange<Int>) -> String {
    if values == Array(universe) { return "*" }
    var parts: [String] = []
    var index = 0
    while index < values.count {
        var end = index
        while end + 1 < values.count, values[end + 1] == values[end] + 1 { end += 1 }
        if end - index >= 2 {
            parts.append("\(values[index])-\(values[end])")
        } else {
            parts += values[index...end].map(String.init)
        }
        index = end + 1
    }
    return parts.joined(separator: ",")
}
