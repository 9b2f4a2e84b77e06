import Foundation

/// The `--start` / `--end` of a backtest: a UTC date (YYYY-MM-DD) or an ISO-8601 time with a zone.
/// The range is start ≤ ts < end, and an end given as a date includes that whole day.
public enum TimeRange {
    public static func parse(start: String, end: String) throws(BacktestError) -> (start: Date, end: Date) {
        let from = try instant(start, flag: "--start", endOfDay: false)
        let to = try instant(end, flag: "--end", endOfDay: true)
        guard from < to else { throw .startAfterEnd(start: start, end: end) }
        return (from, to)
    }

    static func instant(_ text: String, flag: String, endOfDay: Bool) throws(BacktestError) -> Date {
        if let day = BarGenerator.day(text) {
            return Date(timeIntervalSince1970: Double((day + (endOfDay ? 1 : 0)) * 86_400))
        }
        if case .success(let time) = parseISO8601(Array(text.utf8)[...]) { return time }
        throw .invalidSetting(flag, problem: "'\(text)' is not a date (2025-09-10) or a time with a zone (2025-09-10T13:30:00Z)")
    }
}
