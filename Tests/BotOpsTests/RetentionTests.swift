import BotOpsKit
import Foundation
import PropertyBased
import Testing

struct RetentionTests {
    static let newYork = TimeZone(identifier: "America/New_York")!

    static func formatter(_ format: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.calendar = Calendar(identifier: .iso8601)
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = newYork
        formatter.dateFormat = format
        return formatter
    }

    /// A backup's day, ISO week and month written out in New York ("2026-03-08", "2026-W10", "2026-03").
    static func periods(_ time: Date) -> [String] {
        ["yyyy-MM-dd", "YYYY-'W'ww", "yyyy-MM"].map { formatter($0).string(from: time) }
    }

    /// The plain reference: group the verified backups by their written-out periods, keep the
    /// newest backup of each of the newest N groups, plus the exceptions.
    static func referenceKept(_ items: [RetentionPolicy.Item], periods: [String: [String]], now: Date,
                              daily: Int, weekly: Int, monthly: Int) -> Set<String> {
        let verified = items.filter { $0.status == .verified }
        var kept = Set<String>()
        for (index, count) in [daily, weekly, monthly].enumerated() {
            let groups = Dictionary(grouping: verified) { periods[$0.id]![index] }
            let newestOfEach = groups.values.map { $0.max { $0.time < $1.time }! }.sorted { $0.time > $1.time }
            kept.formUnion(newestOfEach.prefix(count).map(\.id))
        }
        if let newest = verified.max(by: { $0.time < $1.time }) { kept.insert(newest.id) }
        for item in items where item.keep || now.timeIntervalSince(item.time) < 86_400 { kept.insert(item.id) }
        for item in items where item.status == .unverified { kept.insert(item.id) }
        for item in items where item.status == .failed && now.timeIntervalSince(item.time) < 7 * 86_400 { kept.insert(item.id) }
        return kept
    }

    /// SplitMix64: the simulation's randomness comes from one seed the property test draws.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: UInt64) -> Int { Int(next() % n) }
    }

    /// Two simulated years of daily backups near 16:30 New York time, with missed days, failed and
    /// unverified runs, later second runs on some days and some kept by hand. Retention runs after each
    /// verified backup (the injected clock is the backup's time); what survives must be exactly
    /// what the reference keeps from the whole history at that moment.
    @Test func twoSimulatedYearsKeepExactlyWhatTheReferenceKeeps() async {
        await propertyCheck(count: 8, input: Gen.int64(in: 0...Int64.max)) { seed in
            var random = Random(state: UInt64(seed))
            let policy = RetentionPolicy(daily: 7, weekly: 4, monthly: 12)
            let start = Date(timeIntervalSince1970: 1_767_303_000)  // 2026-01-01T21:30Z, 16:30 in New York
            var history: [RetentionPolicy.Item] = []
            var surviving: [RetentionPolicy.Item] = []
            var periods: [String: [String]] = [:]
            for day in 0..<730 {
                if random.below(100) < 15 { continue }  // a missed day
                for run in 0..<(random.below(100) < 30 ? 2 : 1) {
                    // The scheduled run within half an hour of 16:30; a second (manual) one up to 8 hours later,
                    // past midnight UTC and sometimes past midnight in New York.
                    let offset = run == 0 ? random.below(1_800) : 1_800 + random.below(28_800)
                    let time = start.addingTimeInterval(Double(day * 86_400 + offset))
                    let roll = random.below(100)
                    let status: BackupRecord.Status = roll < 10 ? .failed : roll < 13 ? .unverified : .verified
                    let item = RetentionPolicy.Item(id: "\(day)-\(run)", time: time, status: status, keep: random.below(100) < 2)
                    history.append(item)
                    periods[item.id] = Self.periods(time)
                    surviving.append(item)
                    guard status == .verified else { continue }
                    let expired = policy.expired(surviving, now: time)
                    surviving.removeAll { expired.contains($0.id) }
                    let reference = Self.referenceKept(history, periods: periods, now: time, daily: 7, weekly: 4, monthly: 12)
                    #expect(Set(surviving.map(\.id)) == reference, "day \(day), seed \(seed)")
                }
            }
            // After two years: 7 daily + 4 weekly + 12 monthly at most, plus the exceptions.
            #expect(surviving.filter { $0.status == .verified && !$0.keep }.count <= 7 + 4 + 12)
        }
    }

    @Test func newestVerifiedAndRecentAndKeptAreNeverDeleted() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let old = now.addingTimeInterval(-400 * 86_400)
        let items = [
            RetentionPolicy.Item(id: "only-verified", time: old, status: .verified, keep: false),
            RetentionPolicy.Item(id: "kept", time: old.addingTimeInterval(-86_400 * 60), status: .verified, keep: true),
            RetentionPolicy.Item(id: "failed-old", time: now.addingTimeInterval(-8 * 86_400), status: .failed, keep: false),
            RetentionPolicy.Item(id: "failed-new", time: now.addingTimeInterval(-6 * 86_400), status: .failed, keep: false),
        ]
        #expect(RetentionPolicy(daily: 0, weekly: 0, monthly: 0).expired(items, now: now) == ["failed-old"])
    }

    /// Retention's New York day, ISO week and month (C arithmetic, no ICU) equal Foundation's
    /// calendar over the system's tz data: every half hour (and the second before it) from a week
    /// before to a week after each change of offset and each New Year, 2007 to 2060, and every
    /// six hours of every day in between.
    @Test func newYorkPeriodsEqualFoundationsCalendarAroundEveryChangeOfOffset() {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = Self.newYork
        func expected(_ date: Date) -> [[Int]] {
            let c = calendar.dateComponents([.year, .month, .day, .yearForWeekOfYear, .weekOfYear], from: date)
            return [[c.year!, c.month!, c.day!], [c.yearForWeekOfYear!, c.weekOfYear!], [c.year!, c.month!]]
        }
        var instants: [Int] = []
        let first = 1_167_609_600, last = 2_871_763_200  // 2007-01-01 and 2061-01-01, 00:00 UTC
        instants += stride(from: first, to: last, by: 6 * 3600)
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(secondsFromGMT: 0)!
        for year in 2007...2060 {
            for (month, day) in [(1, 1), (3, 10), (11, 3)] {
                let anchor = Int(utc.date(from: DateComponents(year: year, month: month, day: day))!.timeIntervalSince1970)
                for t in stride(from: anchor - 7 * 86_400, to: anchor + 7 * 86_400, by: 1800) { instants += [t - 1, t] }
            }
        }
        var wrong: [String] = []
        for t in instants {
            let date = Date(timeIntervalSince1970: Double(t))
            let periods = NewYorkCalendar.periods(date)
            let got = [periods.day, periods.week, periods.month]
            if got != expected(date), wrong.count < 5 { wrong.append("\(t): \(got) != \(expected(date))") }
        }
        #expect(wrong.isEmpty, "\(wrong)")
    }
}
