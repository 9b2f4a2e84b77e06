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
    public var zone: TimeZone

    public init(daily: Int = 7, weekly: Int = 4, monthly: Int = 12, zone: TimeZone = TimeZone(identifier: "America/New_York")!) {
        self.daily = daily
        self.weekly = weekly
        self.monthly = monthly
        self.zone = zone
    }

    public init(_ settings: BackupSettings) {
        self.init(daily: settings.keepDaily, weekly: settings.keepWeekly, monthly: settings.keepMonthly)
    }

    /// The ids to delete at `now`.
    public func expired(_ items: [Item], now: Date) -> Set<String> {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = zone
        let verified = items.filter { $0.status == .verified }.sorted { $0.time > $1.time }
        var kept = Set(verified.prefix(1).map(\.id))
        let buckets: [(Int, (Date) -> [Int])] = [
            (daily, { let c = calendar.dateComponents([.year, .month, .day], from: $0); return [c.year!, c.month!, c.day!] }),
            (weekly, { let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: $0); return [c.yearForWeekOfYear!, c.weekOfYear!] }),
            (monthly, { let c = calendar.dateComponents([.year, .month], from: $0); return [c.year!, c.month!] }),
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
