import Foundation

/// When a schedule fires, by the wall clock of its zone.
///
/// An instant fires when the zone's clock shows a matching minute at it. So across DST changes a
/// schedule keeps its local time (09:00 stays 09:00, at another UTC hour); a minute the clocks
/// skip (02:30 on the spring-forward Sunday) does not fire; a minute they show twice (01:30 on the
/// fall-back Sunday) fires twice. The guarded crontab form botops installs behaves exactly so.
extension Schedule {
    /// The first fire strictly after `instant`; nil for `@reboot`.
    public func next(after instant: Int64, in zone: CronZone) -> Int64? {
        guard !isReboot else { return nil }
        var day = Civil.days(local: zone.local(at: instant)) - 1
        let limit = day + Self.searchDays
        while day <= limit {
            if let found = fires(onDay: day, in: zone).first(where: { $0 > instant }) {
                // Where clocks fall back across midnight, the next day can start before this one ends.
                let following = fires(onDay: day + 1, in: zone).first(where: { $0 > instant })
                return min(found, following ?? found)
            }
            day = nextCandidateDay(after: day)
        }
        return nil
    }

    /// The last fire strictly before `instant`; nil for `@reboot`.
    public func previous(before instant: Int64, in zone: CronZone) -> Int64? {
        guard !isReboot else { return nil }
        var day = Civil.days(local: zone.local(at: instant)) + 1
        let limit = day - Self.searchDays
        while day >= limit {
            if let found = fires(onDay: day, in: zone).last(where: { $0 < instant }) {
                let preceding = fires(onDay: day - 1, in: zone).last(where: { $0 < instant })
                return max(found, preceding ?? found)
            }
            day = previousCandidateDay(before: day)
        }
        return nil
    }

    /// True when the schedule fires at `instant` (a whole minute whose local time matches).
    public func fires(at instant: Int64, in zone: CronZone) -> Bool {
        instant.floorModulo(60) == 0 && matches(zone.local(at: instant))
    }

    /// Long enough to find a 29 February that falls on a given weekday.
    private static let searchDays: Int64 = 146_097

    /// The fire instants of local day `day` (days since 1970-01-01), ascending.
    func fires(onDay day: Int64, in zone: CronZone) -> [Int64] {
        let date = Civil.date(days: day)
        guard dayMatches(year: date.year, month: date.month, day: date.day, weekday: Civil.weekday(days: day)) else { return [] }
        let dayStart = day * 86_400
        if let offset = zone.constantOffset(aroundWallDayStarting: dayStart) {
            return minutesOfDay.map { dayStart + Int64($0 * 60 - offset) }
        }
        return minutesOfDay.flatMap { minute in
            zone.instants(of: LocalTime(year: date.year, month: date.month, day: date.day, hour: minute / 60, minute: minute % 60))
        }.sorted()
    }

    /// The day after `day`, or the first of the next month when `day`'s month is not in the schedule.
    private func nextCandidateDay(after day: Int64) -> Int64 {
        let date = Civil.date(days: day)
        if month.contains(date.month) { return day + 1 }
        return day + Int64(Civil.daysInMonth(year: date.year, month: date.month) - date.day + 1)
    }

    private func previousCandidateDay(before day: Int64) -> Int64 {
        let date = Civil.date(days: day)
        return month.contains(date.month) ? day - 1 : day - Int64(date.day)
    }
}

extension Civil {
    static func days(local: LocalTime) -> Int64 {
        days(year: local.year, month: local.month, day: local.day)
    }
}

extension CronZone {
    /// The zone's offset if it does not change anywhere near the wall-clock day starting at
    /// `wallDayStart`: then every wall time of that day is shown exactly once.
    func constantOffset(aroundWallDayStarting wallDayStart: Int64) -> Int? {
        let margin: Int64 = 15 * 3600  // more than any UTC offset
        let from = wallDayStart - margin
        guard transitions(from: from, to: wallDayStart + 86_400 + margin).isEmpty else { return nil }
        return offset(at: from)
    }
}
