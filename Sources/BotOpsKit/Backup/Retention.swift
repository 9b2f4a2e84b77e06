#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Which backups retention keeps, as restic's keep-daily/weekly/monthly: the newest verified
/// backup of each of the `daily` newest days that have one (America/New_York days), of each of the
/// `weekly` newest ISO weeks and of each of the `monthly` newest months. Always kept as well: the
/// newest verified backup, any younger than a day, any marked keep. Failed backups go once older
/// than 7 days. Unverified ones are never deleted by retention (they may be the only copy when no
/// throwaway server can start); they are removed by hand.
public struct RetentionPolicy: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public var id: String
        public var time: Date
        public var status: BackupRecord.Status
        public var keep: Bool

        public init(id: String, time: Date, status: BackupRecord.Status, keep: Bool) {
            self.id = id
            self.time = time
            self.status = status
            self.keep = keep
        }
    }

    public var daily: Int
    public var weekly: Int
    public var monthly: Int

    public init(daily: Int = 7, weekly: Int = 4, monthly: Int = 12) {
        self.daily = daily
        self.weekly = weekly
        self.monthly = monthly
    }

    public init(_ settings: BackupSettings) {
        self.init(daily: settings.keepDaily, weekly: settings.keepWeekly, monthly: settings.keepMonthly)
    }

    /// The ids to delete at `now`.
    public func expired(_ items: [Item], now: Date) -> Set<String> {
        let verified = items.filter { $0.status == .verified }.sorted { $0.time > $1.time }
        var kept = Set(verified.prefix(1).map(\.id))
        let buckets: [(Int, (Date) -> [Int])] = [
            (daily, { NewYorkCalendar.periods($0).day }),
            (weekly, { NewYorkCalendar.periods($0).week }),
            (monthly, { NewYorkCalendar.periods($0).month }),
        ]
        for (count, key) in buckets {
            var seen: [[Int]] = []
            for item in verified where seen.count < count {
                let bucket = key(item.time)
                if seen.last != bucket {
                    seen.append(bucket)
                    kept.insert(item.id)
                }
            }
        }
        let day: TimeInterval = 86_400
        return Set(items.filter { item in
            if item.keep || kept.contains(item.id) || now.timeIntervalSince(item.time) < day { return false }
            switch item.status {
            case .verified: return true
            case .failed: return now.timeIntervalSince(item.time) >= 7 * day
            case .unverified: return false
            }
        }.map(\.id))
    }
}

/// The New York day, ISO week and month of an instant, by C arithmetic on UTC (timegm, gmtime_r,
/// strftime): Foundation's TimeZone and Calendar load ICU's data, megabytes of botops' peak
/// resident memory (README: Benchmarks). US Eastern time since 2007: UTC-5, and UTC-4 from the
/// second Sunday of March 02:00 to the first Sunday of November 02:00, local time.
/// FIXME: the rule is written here, not read from tz data: a change in US daylight-saving law
/// needs a change here (RetentionTests compares it with the system's tz data).
public enum NewYorkCalendar {
    /// `day` [year, month, day], `week` [ISO week-year, ISO week], `month` [year, month].
    public static func periods(_ date: Date) -> (day: [Int], week: [Int], month: [Int]) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        var local = fields(seconds + offset(seconds))
        var buffer = [CChar](repeating: 0, count: 32)
        _ = strftime(&buffer, buffer.count, "%G %V", &local)
        let week = String(cString: buffer).split(separator: " ").compactMap { Int($0) }
        let year = Int(local.tm_year) + 1900, month = Int(local.tm_mon) + 1
        return ([year, month, Int(local.tm_mday)], week, [year, month])
    }

    /// New York's offset from UTC at `seconds`.
    static func offset(_ seconds: Int) -> Int {
        let hour = 3600
        // Around New Year there is no daylight time, so the standard-time year is the local one.
        let year = fields(seconds - 5 * hour).tm_year + 1900
        let start = utc(year, 3, sunday(2, of: 3, in: year), hour: 2 + 5)
        let end = utc(year, 11, sunday(1, of: 11, in: year), hour: 2 + 4)
        return (start..<end).contains(seconds) ? -4 * hour : -5 * hour
    }

    /// The day of the month of the `n`th Sunday of `month`.
    private static func sunday(_ n: Int32, of month: Int32, in year: Int32) -> Int32 {
        let first = fields(utc(year, month, 1, hour: 0)).tm_wday
        return 1 + (7 - first) % 7 + 7 * (n - 1)
    }

    private static func utc(_ year: Int32, _ month: Int32, _ day: Int32, hour: Int32) -> Int {
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        return Int(timegm(&parts))
    }

    private static func fields(_ seconds: Int) -> tm {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return parts
    }
}
