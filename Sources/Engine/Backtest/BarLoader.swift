import Foundation
import Postgres

/// Reads one symbol's bars of one timeframe from `market_bars` with a binary COPY: numerics and
/// timestamps travel in PostgreSQL's own binary form, so the server formats no text and the
/// client parses none. Prices arrive exactly (units of 10^-8).
public struct BarLoader: Sendable {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// How many bars at least make a second connection worth its few milliseconds.
    public static let parallelThreshold = 200_000

    /// Bars with `start` ≤ ts < `end`, in time order. Throws `BacktestError` when there are none
    /// (saying what the table does hold). With `second`, a connection to the same database, the
    /// two halves of the range are read at once (the server formats each on its own core).
    public func load(symbol: String, timeframe: String, start: Date, end: Date, second: PostgresConnection? = nil) async throws -> BarSeries {
        guard start < end else { throw BacktestError.startAfterEnd(start: start.postgresText, end: end.postgresText) }
        var series = BarSeries(symbol: symbol, timeframe: timeframe)
        if let second {
            let middle = try await connection.query("""
                SELECT to_timestamp(floor((extract(epoch FROM min(ts)) + extract(epoch FROM max(ts))) / 2))
                FROM market_bars WHERE symbol = $1 AND timeframe = $2 AND ts >= $3 AND ts < $4
                """, [symbol, timeframe, start, end]).rows[0].optionalString(0)
            if let middle {
                async let early = Self.read(connection, symbol: symbol, timeframe: timeframe, start: start.postgresText, end: middle)
                async let late = Self.read(second, symbol: symbol, timeframe: timeframe, start: middle, end: end.postgresText)
                let (first, rest) = try await (early, late)
                try first.withUnsafeBufferPointer { try Self.parse($0, into: &series) }
                try rest.withUnsafeBufferPointer { try Self.parse($0, into: &series) }
            }
        } else {
            let data = try await Self.read(connection, symbol: symbol, timeframe: timeframe, start: start.postgresText, end: end.postgresText)
            try data.withUnsafeBufferPointer { try Self.parse($0, into: &series) }
        }
        guard series.isEmpty else { return series }
        let span = try await connection.query("SELECT min(ts), max(ts), count(*) FROM market_bars WHERE symbol = $1 AND timeframe = $2",
                                              [symbol, timeframe]).rows[0]
        guard try span.int(2) > 0 else { throw BacktestError.noBars(symbol: symbol, timeframe: timeframe) }
        throw BacktestError.emptyRange(symbol: symbol, timeframe: timeframe, start: start.postgresText, end: end.postgresText,
                                       available: "\(try span.string(0)) .. \(try span.string(1)) (\(try span.int(2)) bars)")
    }

    /// An upper estimate of the bars in the range, to decide whether a second connection pays
    /// off: from the requested range alone when that is small, else from the stored span.
    public func estimatedCount(symbol: String, timeframe: String, start: Date, end: Date) async throws -> Int {
        guard let requested = Self.bars(in: end.timeIntervalSince(start), timeframe: timeframe) else { return 0 }
        guard requested >= Self.parallelThreshold else { return requested }
        let seconds = try await connection.query("""
            SELECT coalesce(extract(epoch FROM max(ts) - min(ts))::bigint, 0)
            FROM market_bars WHERE symbol = $1 AND timeframe = $2 AND ts >= $3 AND ts < $4
            """, [symbol, timeframe, start, end]).rows[0].int(0)
        return Self.bars(in: Double(seconds), timeframe: timeframe) ?? 0
    }

    /// How many bars of a timeframe such as 5m, 1h, 1d or 1w fit in `seconds` (one more, the
    /// first); nil for other timeframes.
    static func bars(in seconds: Double, timeframe: String) -> Int? {
        let units: [Character: Double] = ["m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        guard let unit = timeframe.last.flatMap({ units[$0] }), let count = Int(timeframe.dropLast()), (1...100_000).contains(count),
              seconds.isFinite, seconds >= 0 else { return nil }
        return Int(min(seconds / (unit * Double(count)), 1e15)) + 1
    }

    /// The raw binary COPY of `start` ≤ ts < `end` (times as PostgreSQL text).
    static func read(_ connection: PostgresConnection, symbol: String, timeframe: String, start: String, end: String) async throws -> [UInt8] {
        // COPY takes no bound parameters: the values go through session settings instead, never into the SQL text.
        try await connection.query("""
            SELECT set_config('botops.bars_symbol', $1, false), set_config('botops.bars_timeframe', $2, false),
                   set_config('botops.bars_start', $3, false), set_config('botops.bars_end', $4, false)
            """, [symbol, timeframe, start, end])
        return try await connection.copyOut("""
            COPY (SELECT ts, open, high, low, close, volume FROM market_bars
                  WHERE symbol = current_setting('botops.bars_symbol') AND timeframe = current_setting('botops.bars_timeframe')
                    AND ts >= current_setting('botops.bars_start')::timestamptz AND ts < current_setting('botops.bars_end')::timestamptz
                  ORDER BY ts) TO STDOUT (FORMAT binary)
            """)
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, into series: inout BarSeries) throws {
        var reader = try BinaryCopy.Reader(bytes)
        series.reserveCapacity(bytes.count / 80)
        while let fields = try reader.nextTuple() {
            guard fields == 6 else { throw BinaryCopy.Malformed(problem: "\(fields) columns, expected 6") }
            let time = try reader.timestamp()
            guard let open = try reader.numericUnits(), let high = try reader.numericUnits(), let low = try reader.numericUnits(),
                  let close = try reader.numericUnits() else {
                throw BinaryCopy.Malformed(problem: "a bar at \(isoTime(time)) has a price above 92233720368 (or with more than 8 decimals), more than the backtester's 8-decimal 64-bit prices hold")
            }
            series.append(time: time, openUnits: open, highUnits: high, lowUnits: low, closeUnits: close, volume: try reader.numericDouble())
        }
    }
}
