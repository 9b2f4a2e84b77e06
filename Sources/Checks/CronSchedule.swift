#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A crontab schedule as cron reads it: five fields (minute, hour, day of month, month, day of
/// week: numbers, `*`, lists, ranges, steps, month and day names) or an `@` keyword.
struct CronSchedule: Sendable, Equatable {
    var minutes: Set<Int>
    var hours: Set<Int>
    var daysOfMonth: Set<Int>
    var months: Set<Int>
    /// 0 = Sunday; 7 is read as Sunday too.
    var daysOfWeek: Set<Int>
    /// cron's rule: when both day fields are restricted (neither starts with `*`), a day matching
    /// either runs the job; otherwise both must match.
    var eitherDay: Bool

    private static let keywords: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    private static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// `@weekly` and friends; nil for anything that is not one (`@reboot` has no schedule).
    static func keyword(_ word: Substring) -> CronSchedule? {
        keywords[word.lowercased()].flatMap { parse($0.split(separator: " ")) }
    }

    /// The five time fields; nil when any is not valid cron.
    static func parse(_ fields: [Substring]) -> CronSchedule? {
        guard fields.count == 5,
              let minutes = field(fields[0], 0...59, names: []),
              let hours = field(fields[1], 0...23, names: []),
              let daysOfMonth = field(fields[2], 1...31, names: []),
              let months = field(fields[3], 1...12, names: monthNames, firstName: 1),
              let daysOfWeek = field(fields[4], 0...7, names: dayNames, firstName: 0) else { return nil }
        return CronSchedule(minutes: minutes, hours: hours, daysOfMonth: daysOfMonth, months: months,
                            daysOfWeek: Set(daysOfWeek.map { $0 % 7 }),
                            eitherDay: !fields[2].hasPrefix("*") && !fields[4].hasPrefix("*"))
    }

    private static func field(_ text: Substring, _ bounds: ClosedRange<Int>, names: [String], firstName: Int = 0) -> Set<Int>? {
        func value(_ word: Substring) -> Int? {
            if let number = Int(word), bounds.contains(number) { return number }
            return names.firstIndex(of: word.lowercased()).map { $0 + firstName }
        }
        var result = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return nil }
            var step = 1
            if parts.count == 2 {
                guard let parsed = Int(parts[1]), parsed > 0, parsed <= bounds.upperBound + 1 else { return nil }
                step = parsed
            }
            let range: ClosedRange<Int>
            if parts[0] == "*" {
                range = bounds
            } else if let dash = parts[0].firstIndex(of: "-") {
                guard let low = value(parts[0][..<dash]), let high = value(parts[0][parts[0].index(after: dash)...]), low <= high else { return nil }
                range = low...high
            } else {
                guard let single = value(parts[0]) else { return nil }
                // `N/step` runs from N to the end, as cronie reads it.
                range = parts.count == 2 ? single...bounds.upperBound : single...single
            }
            result.formUnion(stride(from: range.lowerBound, through: range.upperBound, by: step))
        }
        return result
    }

    /// The first minute strictly after `epoch` at which cron starts the job, reading the schedule
    /// in a zone `utcOffset` seconds east of UTC (the host's offset now: a DST change before then
    /// moves the real time by the change). Nil when no date ever matches (`30 0 31 2 *`).
    func nextFire(after epoch: Int, utcOffset: Int) -> Int? {
        // Years 1970 to 9999 and real offsets only: a host clock outside them has no answer.
        guard (0...253_402_300_799).contains(epoch), abs(utcOffset) <= 86_400 else { return nil }
        let local = epoch + utcOffset
        let earliest = (local - ((local % 60) + 60) % 60) + 60
        var day = earliest - ((earliest % 86_400) + 86_400) % 86_400
        // Leap days can be eight years apart; nothing valid is further away.
        for _ in 0..<(366 * 9) {
            if let minute = firstMinute(onDayStarting: day, notBefore: earliest) {
                return minute - utcOffset
            }
            day += 86_400
        }
        return nil
    }

    private func firstMinute(onDayStarting day: Int, notBefore earliest: Int) -> Int? {
        var time = time_t(day)
        var parts = tm()
        gmtime_r(&time, &parts)
        let monthMatches = months.contains(Int(parts.tm_mon) + 1)
        let dayOfMonth = daysOfMonth.contains(Int(parts.tm_mday))
        let dayOfWeek = daysOfWeek.contains(Int(parts.tm_wday))
        guard monthMatches, eitherDay ? (dayOfMonth || dayOfWeek) : (dayOfMonth && dayOfWeek) else { return nil }
        for hour in hours.sorted() {
            for minute in minutes.sorted() {
                let candidate = day + hour * 3600 + minute * 60
                if candidate >= earliest { return candidate }
            }
        }
        return nil
    }
}
