import Cron
import Foundation
import PropertyBased

// The helpers the pure cron tests (CronUnitTests) and the sandbox ones (CronTests) share.

public let losAngeles = CronZone(identifier: "America/Los_Angeles")!
public let utcZone = CronZone.utc

/// `2026-03-09T16:00` (UTC) → seconds since 1970.
public func utc(_ text: String) -> Int64 {
    let formatter = ISO8601DateFormatter()
    guard let date = formatter.date(from: text + (text.count == 16 ? ":00Z" : "Z")) else { fatalError("bad test instant \(text)") }
    return Int64(date.timeIntervalSince1970)
}

/// Seconds since 1970 → `2026-03-09T16:00` (UTC), for readable expectations.
public func utcText(_ instant: Int64?) -> String? {
    guard let instant else { return nil }
    let local = CronZone.utc.local(at: instant)
    func pad(_ value: Int, _ width: Int = 2) -> String { String(repeating: "0", count: max(0, width - String(value).count)) + String(value) }
    return "\(pad(local.year, 4))-\(pad(local.month))-\(pad(local.day))T\(pad(local.hour)):\(pad(local.minute))"
}

public func schedule(_ text: String) -> Schedule {
    do { return try Schedule.parse(text) } catch { fatalError("\(text): \(error)") }
}

public func entry(_ text: String, name: String = "weekly-strategy-review") throws -> CronEntry {
    try CronEntry.parse(text, name: name, source: "crontab.d/\(name).cron")
}

public let weeklyEntryText = """
    # Weekly strategy review, Mondays 09:00 Pacific
    CRON_TZ=America/Los_Angeles
    0 9 * * 1 /opt/bot/weekly_strategy_review.sh >> /opt/bot/logs/weekly_review_cron.log 2>&1
    # botops: blackout 10m
    # botops: expects logs/weekly_review_*.txt
    """

/// A Debian host: UTC, cron ignores CRON_TZ.
public let debianHost = CronHostTime(zone: .utc, honoursCronTZ: false)
/// A cronie host in UTC.
public let cronieHost = CronHostTime(zone: .utc, honoursCronTZ: true)

/// A fixed "now" for rendering: candidate hours come from the offsets around it.
public let renderNow = utc("2026-11-23T20:00")

/// A generator picking one of `values` (shrinking towards the first).
public func oneOf<T: Sendable>(_ values: [T]) -> Generator<T, Shrink.Integer<Int>> {
    Gen.int(in: 0...(values.count - 1)).map { values[$0] }
}

/// Runs a local program (no shell) and returns its status, stdout and stderr: git and xmllint in
/// the pure tests, crontab in the sandbox ones.
@discardableResult
public func runProgram(_ arguments: [String], input: [UInt8]? = nil) throws -> (status: Int32, stdout: [UInt8], stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    let stdin = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(Data(input)) }
    try stdin.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, Array(data), String(decoding: errorData, as: UTF8.self))
}
