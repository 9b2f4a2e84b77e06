import Basics

/// The shell guard that makes a cron which ignores `CRON_TZ` run a job at a local time elsewhere.
///
/// The job line runs at every host-time minute that can be a fire time in the entry's zone (under
/// any of the zone's UTC offsets); the guard asks `date` for the wall clock in that zone and lets
/// the command through only when the schedule matches it:
///
/// ```
/// 0 16,17 * * * case $(TZ=America/Los_Angeles date +\%H:\%M/\%w/\%m/\%d) in 09:00/1/*) ;; *) exit 0;; esac; /opt/bot/weekly_strategy_review.sh
/// ```
///
/// Day fields are checked in the entry's zone too, so an entry whose local day differs from the
/// host's day (Monday 20:00 in Los Angeles is Tuesday in UTC) still runs on the right day.
public struct ZoneGuard: Hashable, Sendable {
    public let zone: CronZone
    /// Shell glob patterns over the wall clock `HH:MM/W/MM/DD` (W: 0 = Sunday).
    public let patterns: [String]

    /// Longest guard botops writes; a longer one would push the line past what cron reads.
    static let maximumBytes = 700

    private static let format = #"date +\%H:\%M/\%w/\%m/\%d"#
    private static let middle = " \(format)) in "
    private static let tail = ") ;; *) exit 0;; esac; "

    /// The guard for `schedule` read in `zone`.
    public init(schedule: Schedule, zone: CronZone) {
        self.zone = zone
        let times = Self.globs(schedule.hour.values, universe: 0...23).flatMap { hour in
            Self.globs(schedule.minute.values, universe: 0...59).map { "\(hour):\($0)" }
        }
        let months = Self.globs(schedule.month.values, universe: 1...12)
        let anyDay = ["??"]
        let weekdays = schedule.dayOfWeek.isFull ? "?" : Self.bracket(schedule.dayOfWeek.values)
        let dayChoices: [(weekday: String, days: [String])] = schedule.daysMatchEither
            ? [("?", Self.globs(schedule.dayOfMonth.values, universe: 1...31)), (weekdays, anyDay)]
            : [(weekdays, Self.globs(schedule.dayOfMonth.values, universe: 1...31))]
        var patterns: [String] = []
        for time in times {
            for choice in dayChoices {
                for month in months {
                    for day in choice.days {
                        let pattern = Self.collapsingTrailingWildcards([time, choice.weekday, month, day])
                        if !patterns.contains(pattern) { patterns.append(pattern) }
                    }
                }
            }
        }
        self.patterns = patterns
    }

    init(zone: CronZone, patterns: [String]) {
        self.zone = zone
        self.patterns = patterns
    }

    /// `case $(TZ=ZONE date +…) in PATTERNS) ;; *) exit 0;; esac; ` — in crontab syntax (`%` escaped).
    public var shellPrefix: String {
        "case $(TZ=\(shellQuote(zone.identifier))\(Self.middle)\(patterns.joined(separator: "|"))\(Self.tail)"
    }

    /// Splits a crontab command that starts with a guard botops wrote into the guard and the command.
    public static func unwrap(_ command: some StringProtocol) -> (guard: ZoneGuard, command: Substring)? {
        let text = Substring(command)
        guard text.hasPrefix("case $(TZ="), let middle = text.firstRange(of: Self.middle),
              let tail = text[middle.upperBound...].firstRange(of: Self.tail)
        else { return nil }
        let zoneText = text[text.index(text.startIndex, offsetBy: "case $(TZ=".count)..<middle.lowerBound]
        guard let zone = CronZone(identifier: String(zoneText.trimmingQuotes())) else { return nil }
        let patterns = text[middle.upperBound..<tail.lowerBound].split(separator: "|").map(String.init)
        return (ZoneGuard(zone: zone, patterns: patterns), text[tail.upperBound...])
    }

    /// True when the guard lets the command run at wall-clock `local` in its zone: what the shell
    /// decides, evaluated here (the sandbox tests run the real shell under a faked clock).
    public func admits(_ local: LocalTime) -> Bool {
        let subject = "\(padded(local.hour)):\(padded(local.minute))/\(local.weekday)/\(padded(local.month))/\(padded(local.day))"
        return patterns.contains { globMatches(Array($0), Array(subject)) }
    }

    // MARK: - Patterns

    /// Glob alternatives matching exactly the two-digit renderings of `values` within `universe`:
    /// {0, 15, 30, 45} → `[03]0`, `[14]5`; all of 0…23 → `??`.
    static func globs(_ values: [Int], universe: ClosedRange<Int>) -> [String] {
        let wanted = Set(values)
        if universe.allSatisfy(wanted.contains) { return ["??"] }
        let allTens = Set(universe.map { $0 / 10 })
        var groups: [(units: String, tens: [Int])] = []
        for tens in allTens.sorted() {
            let possible = universe.filter { $0 / 10 == tens }.map { $0 % 10 }
            let units = possible.filter { wanted.contains(tens * 10 + $0) }
            if units.isEmpty { continue }
            let unitsPattern = units == possible ? "?" : bracket(units)
            if let index = groups.firstIndex(where: { $0.units == unitsPattern }) {
                groups[index].tens.append(tens)
            } else {
                groups.append((unitsPattern, [tens]))
            }
        }
        return groups.map { (Set($0.tens) == allTens ? "?" : bracket($0.tens)) + $0.units }
    }

    /// `[1-5]`, `[06]`, or the single digit.
    static func bracket(_ digits: [Int]) -> String {
        let sorted = Array(Set(digits)).sorted()
        if sorted.count == 1 { return String(sorted[0]) }
        var parts = ""
        var index = 0
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count, sorted[end + 1] == sorted[end] + 1 { end += 1 }
            parts += end - index >= 2 ? "\(sorted[index])-\(sorted[end])" : sorted[index...end].map(String.init).joined()
            index = end + 1
        }
        return "[\(parts)]"
    }

    /// `09:00/1/??/??` → `09:00/1/*`: the subject always has all four parts.
    private static func collapsingTrailingWildcards(_ parts: [String]) -> String {
        var kept = parts
        var collapsed = false
        while let last = kept.last, kept.count > 1, last.allSatisfy({ $0 == "?" }) {
            kept.removeLast()
            collapsed = true
        }
        return kept.joined(separator: "/") + (collapsed ? "/*" : "")
    }
}

/// POSIX shell pattern matching for `?`, `*` and `[…]` (with ranges), as `case` does.
func globMatches(_ pattern: [Character], _ subject: [Character]) -> Bool {
    var p = 0
    var s = 0
    var star: (p: Int, s: Int)?
    while s < subject.count {
        if p < pattern.count, pattern[p] == "*" {
            star = (p, s)
            p += 1
            continue
        }
        if p < pattern.count, let width = matchOne(pattern, at: p, subject[s]) {
            p += width
            s += 1
            continue
        }
        guard let resume = star else { return false }
        p = resume.p + 1
        s = resume.s + 1
        star = (resume.p, resume.s + 1)
    }
    while p < pattern.count, pattern[p] == "*" { p += 1 }
    return p == pattern.count
}

/// Width of the pattern element at `index` when it matches `character`, else nil.
private func matchOne(_ pattern: [Character], at index: Int, _ character: Character) -> Int? {
    switch pattern[index] {
    case "?":
        return 1
    case "[":
        guard let close = pattern[(index + 1)...].firstIndex(of: "]"), close > index + 1 else {
            return pattern[index] == character ? 1 : nil
        }
        var member = index + 1
        var found = false
        while member < close {
            if member + 2 < close, pattern[member + 1] == "-" {
                if pattern[member] <= character && character <= pattern[member + 2] { found = true }
                member += 3
            } else {
                if pattern[member] == character { found = true }
                member += 1
            }
        }
        return found ? close - index + 1 : nil
    default:
        return pattern[index] == character ? 1 : nil
    }
}
