#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Plain C formatting: Foundation's String(format:) and ISO8601DateFormatter load ICU, which costs
// several megabytes of resident memory in a tool that must stay small.

/// `value` with exactly `digits` decimals.
public func formatFixed(_ value: Double, digits: Int) -> String {
    var scale = 1
    for _ in 0..<digits { scale *= 10 }
    // Beyond Int's range (or not a number) there is nothing to round: say it as Swift does.
    guard let scaled = Int(exactly: (abs(value) * Double(scale)).rounded()) else { return String(value) }
    let sign = value < 0 && scaled != 0 ? "-" : ""
    guard digits > 0 else { return sign + String(scaled) }
    let fraction = String(scaled % scale)
    return sign + "\(scaled / scale)." + String(repeating: "0", count: digits - fraction.count) + fraction
}

/// Seconds since the epoch as `2026-11-22T19:17:36Z`.
public func formatUTC(_ epochSeconds: Int) -> String {
    var time = time_t(epochSeconds)
    var parts = tm()
    gmtime_r(&time, &parts)
    var buffer = [CChar](repeating: 0, count: 32)
    _ = strftime(&buffer, 32, "%Y-%m-%dT%H:%M:%SZ", &parts)
    return String(cString: buffer)
}

/// Parses RFC 3339 UTC (`2026-11-22T19:17:36.123456789Z`, fraction optional) into epoch seconds.
public func parseUTC(_ text: String) -> Int? {
    let numbers = text.split(whereSeparator: { "-T:.Z".contains($0) }).prefix(6).compactMap { Int32(exactly: Int($0) ?? .max) }
    guard numbers.count == 6, text.hasSuffix("Z"), (1900...9999).contains(numbers[0]) else { return nil }
    var parts = tm()
    parts.tm_year = numbers[0] - 1900
    parts.tm_mon = numbers[1] - 1
    parts.tm_mday = numbers[2]
    parts.tm_hour = numbers[3]
    parts.tm_min = numbers[4]
    parts.tm_sec = numbers[5]
    return Int(timegm(&parts))
}

/// `later - earlier` in seconds, for times read off the host: never traps, however odd its clock.
public func secondsBetween(_ earlier: Int, _ later: Int) -> Int {
    let (difference, overflow) = later.subtractingReportingOverflow(earlier)
    return overflow ? (later > earlier ? .max : .min) : difference
}

/// A duration as (fractional) seconds.
public func totalSeconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// A duration in whole milliseconds, rounded to the nearest (half up), as reports and the audit
/// show it: the one rounding, so a step's `duration_ms` is the same number wherever it appears.
/// Saturates instead of trapping on a duration no clock produces.
public func wholeMilliseconds(_ duration: Duration) -> Int {
    let milliseconds = (totalSeconds(duration) * 1000).rounded()
    guard let whole = Int(exactly: milliseconds) else { return milliseconds < 0 ? .min : .max }
    return whole
}
