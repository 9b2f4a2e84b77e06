import Foundation
import Postgres

/// Reads one symbol's bars of one timeframe from `market_bars`. The bars come back as a single
/// text value built by the server (one row, not one row per bar), parsed in place: a million
/// bars cost one round trip and no per-bar strings.
public struct BarLoader: Sendable {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// Bars with `start` ≤ ts < `end`, in time order. Throws `BacktestError` when there are none
    /// (saying what the table does hold).
    public func load(symbol: String, timeframe: String, start: Date, end: Date) async throws -> BarSeries {
        guard start < end else { throw BacktestError.startAfterEnd(start: start.postgresText, end: end.postgresText) }
        let row = try await connection.query("""
            SELECT count(*), string_agg(concat_ws(',', extract(epoch FROM ts)::bigint, open, high, low, close, volume), ';' ORDER BY ts)
            FROM market_bars WHERE symbol = $1 AND timeframe = $2 AND ts >= $3 AND ts < $4
            """, [symbol, timeframe, start, end]).rows[0]
        guard try row.int(0) > 0, let text = row.optionalString(1) else {
            let span = try await connection.query("""
                SELECT min(ts), max(ts), count(*) FROM market_bars WHERE symbol = $1 AND timeframe = $2
                """, [symbol, timeframe]).rows[0]
            guard try span.int(2) > 0 else { throw BacktestError.noBars(symbol: symbol, timeframe: timeframe) }
            throw BacktestError.emptyRange(symbol: symbol, timeframe: timeframe, start: start.postgresText, end: end.postgresText,
                                           available: "\(try span.string(0)) .. \(try span.string(1)) (\(try span.int(2)) bars)")
        }
        var series = BarSeries(symbol: symbol, timeframe: timeframe)
        series.reserveCapacity(try row.int(0))
        var copy = text
        try copy.withUTF8 { try Self.parse($0, into: &series) }
        return series
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String { "market_bars returned a value this reader does not understand" }
    }

    /// `epoch,open,high,low,close,volume;…` with numeric(·, 8) decimals.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, into series: inout BarSeries) throws {
        var position = 0
        /// A decimal as units of 10^-8 (at most 8 decimals, as the columns store).
        func units() throws -> Int64 {
            var negative = false
            if position < bytes.count, bytes[position] == UInt8(ascii: "-") { negative = true; position += 1 }
            var value: Int64 = 0
            var decimals = -1
            var digits = 0
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: ".") {
                    guard decimals < 0 else { throw Malformed() }
                    decimals = 0
                } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                    let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                    let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                    guard !overflow1, !overflow2 else { throw Malformed() }
                    value = sum
                    digits += 1
                    if decimals >= 0 { decimals += 1 }
                } else {
                    break
                }
                position += 1
            }
            guard digits > 0, decimals <= 8 else { throw Malformed() }
            for _ in 0..<(8 - max(decimals, 0)) {
                let (times, overflow) = value.multipliedReportingOverflow(by: 10)
                guard !overflow else { throw Malformed() }
                value = times
            }
            return negative ? -value : value
        }
        /// Volume may exceed what units hold: whole part and fraction apart.
        func volume() throws -> Double {
            var whole = 0.0
            var fraction = 0.0
            var scale = 1.0
            var seenPoint = false
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: ".") {
                    seenPoint = true
                } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                    if seenPoint {
                        scale /= 10
                        fraction += Double(byte - UInt8(ascii: "0")) * scale
                    } else {
                        whole = whole * 10 + Double(byte - UInt8(ascii: "0"))
                    }
                } else {
                    break
                }
                position += 1
            }
            return whole + fraction
        }
        func expect(_ separator: Character) throws {
            guard position < bytes.count, bytes[position] == separator.asciiValue else { throw Malformed() }
            position += 1
        }
        while position < bytes.count {
            let time = try units() / 100_000_000
            try expect(",")
            let open = try units()
            try expect(",")
            let high = try units()
            try expect(",")
            let low = try units()
            try expect(",")
            let close = try units()
            try expect(",")
            let volume = try volume()
            series.append(time: time, openUnits: open, highUnits: high, lowUnits: low, closeUnits: close, volume: volume)
            if position < bytes.count { try expect(";") }
        }
    }
}
