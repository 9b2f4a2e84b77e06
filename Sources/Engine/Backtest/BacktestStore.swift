import Foundation
import Postgres

/// A run as stored: everything `show` and `compare` print comes from these rows.
public struct StoredRun: Sendable, Equatable {
    public var id: Int64
    public var createdAt: String
    public var engineVersion: String
    public var strategy: String
    /// JSON objects as PostgreSQL returns them (normalised jsonb text).
    public var parameters: String
    public var settings: String
    public var conventions: String
    public var rangeStart: String
    public var rangeEnd: String
    public var digest: BarDigest
    public var openQuantity: Amount
    public var metrics: BacktestMetrics
    public var trades: [BacktestTrade] = []
    public var equityTimes: [Int64] = []
    public var equity: [Double] = []
}

/// Writes runs (one transaction: the run row, then trades and equity through COPY) and reads them.
public struct BacktestStore: Sendable {
    let connection: PostgresConnection
    static let equityChunk = 10_000

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// Stores a run; returns its id. Nothing is written unless all of it is.
    public func save(_ result: BacktestResult, rangeStart: Date, rangeEnd: Date) async throws -> Int64 {
        let metricColumns = BacktestMetrics.fields.map(\.name)
        let fixed = ["engine_version", "strategy", "parameters", "settings", "conventions", "range_start", "range_end", "symbol",
                     "timeframe", "first_bar", "last_bar", "bar_count", "bars_hash", "open_quantity"]
        let casts = ["", "", "::jsonb", "::jsonb", "::jsonb", "", "", "", "", "", "", "", "", ""]
        let placeholders = fixed.indices.map { "$\($0 + 1)\(casts[$0])" } + metricColumns.indices.map { "$\($0 + fixed.count + 1)::float8" }
        let digest = result.digest
        var values: [PostgresBindable?] = [
            Backtest.engineVersion, result.request.strategy.name, result.request.strategy.parametersJSON,
            result.request.settingsJSON, result.conventions.json, rangeStart, rangeEnd, digest.symbol, digest.timeframe,
            Date(timeIntervalSince1970: Double(digest.first)), Date(timeIntervalSince1970: Double(digest.last)), digest.count,
            digest.hash, try Backtest.amount(result.simulation.openQuantity),
        ]
        values += BacktestMetrics.fields.map { postgresFloat(result.metrics[keyPath: $0.keyPath]) }
        let trades = result.trades
        let times = result.times
        let equity = result.simulation.equity
        return try await connection.transaction { connection in
            let id = try await connection.query("""
                INSERT INTO backtest_runs (\((fixed + metricColumns).joined(separator: ", ")))
                VALUES (\(placeholders.joined(separator: ", "))) RETURNING id
                """, values).rows[0].string(0)
            try await connection.copyIn("""
                COPY backtest_trades (run_id, seq, entry_bar, exit_bar, entry_time, exit_time, quantity, entry_price, exit_price,
                                      fees, pnl, return_pct, exit_reason) FROM STDIN
                """) { writer in
                for (seq, trade) in trades.enumerated() {
                    writer.row([id, String(seq + 1), String(trade.entryBar), String(trade.exitBar), postgresTime(trade.entryTime),
                                postgresTime(trade.exitTime), trade.quantity.description, trade.entryPrice.description,
                                trade.exitPrice.description, trade.fees.description, trade.pnl.description,
                                postgresFloat(trade.returnFraction * 100), trade.exitReason.rawValue])
                }
            }
            var equityData = BinaryCopy.Writer(capacity: times.count * 24)
            for (chunk, start) in stride(from: 0, to: times.count, by: Self.equityChunk).enumerated() {
                let range = start..<min(start + Self.equityChunk, times.count)
                equityData.tuple(fields: 5)
                equityData.int64Field(Int64(id) ?? 0)
                equityData.int32Field(Int32(chunk))
                equityData.int32Field(Int32(range.count))
                equityData.packedField(times[range]) { UInt64(bitPattern: $0) }
                equityData.packedField(equity[range]) { $0.bitPattern }
            }
            try await connection.copyIn("COPY backtest_equity (run_id, chunk, points, times, equity) FROM STDIN (FORMAT binary)",
                                        data: equityData.finish())
            return Int64(id) ?? 0
        }
    }

    public struct Summary: Sendable, Equatable {
        public var id: Int64
        public var createdAt: String
        public var strategy: String
        public var parameters: String
        public var symbol: String
        public var timeframe: String
        public var firstBar: String
        public var lastBar: String
        public var trades: Int
        public var returnPercent: Double
        public var sharpe: Double
        public var maxDrawdownPercent: Double
    }

    /// The newest runs first.
    public func list(limit: Int, strategy: String?) async throws -> [Summary] {
        try await connection.query("""
            SELECT id, created_at, strategy, parameters::text, symbol, timeframe, first_bar, last_bar, trades::int, return_pct,
                   sharpe, max_drawdown_pct
            FROM backtest_runs WHERE $2::text IS NULL OR strategy = $2 ORDER BY id DESC LIMIT $1
            """, [limit, strategy]).rows.map { row in
            Summary(id: Int64(try row.int(0)), createdAt: try row.string(1), strategy: try row.string(2), parameters: try row.string(3),
                    symbol: try row.string(4), timeframe: try row.string(5), firstBar: try row.string(6), lastBar: try row.string(7),
                    trades: try row.int(8), returnPercent: doubleValue(try row.string(9)), sharpe: doubleValue(try row.string(10)),
                    maxDrawdownPercent: doubleValue(try row.string(11)))
        }
    }

    /// One run; its trades and equity curve only when asked for.
    public func load(_ id: Int64, trades withTrades: Bool = false, equity withEquity: Bool = false) async throws -> StoredRun {
        let metricColumns = BacktestMetrics.fields.map { "\($0.name)::text" }.joined(separator: ", ")
        guard let row = try await connection.query("""
            SELECT id, created_at, engine_version, strategy, parameters::text, settings::text, conventions::text, range_start,
                   range_end, symbol, timeframe, extract(epoch FROM first_bar)::bigint, extract(epoch FROM last_bar)::bigint,
                   bar_count, bars_hash, open_quantity, \(metricColumns)
            FROM backtest_runs WHERE id = $1
            """, [String(id)]).rows.first else { throw BacktestError.runNotFound(id) }
        var metrics = BacktestMetrics()
        for (offset, field) in BacktestMetrics.fields.enumerated() {
            metrics[keyPath: field.keyPath] = doubleValue(try row.string(16 + offset))
        }
        var run = StoredRun(
            id: id, createdAt: try row.string(1), engineVersion: try row.string(2), strategy: try row.string(3),
            parameters: try row.string(4), settings: try row.string(5), conventions: try row.string(6),
            rangeStart: try row.string(7), rangeEnd: try row.string(8),
            digest: BarDigest(symbol: try row.string(9), timeframe: try row.string(10), first: Int64(try row.int(11)),
                              last: Int64(try row.int(12)), count: try row.int(13), hash: try row.string(14)),
            openQuantity: try row.decode(Amount.self, 15), metrics: metrics)
        if withTrades {
            run.trades = try await connection.query("""
                SELECT entry_bar, exit_bar, extract(epoch FROM entry_time)::bigint, extract(epoch FROM exit_time)::bigint, quantity,
                       entry_price, exit_price, fees, pnl, return_pct::text, exit_reason
                FROM backtest_trades WHERE run_id = $1 ORDER BY seq
                """, [String(id)]).rows.map { row in
                BacktestTrade(entryBar: try row.int(0), exitBar: try row.int(1), entryTime: Int64(try row.int(2)), exitTime: Int64(try row.int(3)),
                              quantity: try row.decode(Amount.self, 4), entryPrice: try row.decode(Amount.self, 5),
                              exitPrice: try row.decode(Amount.self, 6), fees: try row.decode(Amount.self, 7), pnl: try row.decode(Amount.self, 8),
                              returnFraction: doubleValue(try row.string(9)) / 100, exitReason: ExitReason(rawValue: try row.string(10)) ?? .signal)
            }
        }
        if withEquity {
            for row in try await connection.query("SELECT encode(times, 'hex'), encode(equity, 'hex') FROM backtest_equity WHERE run_id = $1 ORDER BY chunk",
                                                  [String(id)]).rows {
                run.equityTimes += unpacked(try row.string(0)).map { Int64(bitPattern: $0) }
                run.equity += unpacked(try row.string(1)).map { Double(bitPattern: $0) }
            }
        }
        return run
    }
}

extension BacktestRequest {
    /// The simulation settings as JSON with a fixed key order.
    public var settingsJSON: String {
        let s = settings
        let sizing: String
        switch s.sizing {
        case .fraction(let value): sizing = "{\"fraction\": \(value)}"
        case .quantity(let value): sizing = "{\"quantity\": \(value)}"
        case .notional(let value): sizing = "{\"notional\": \(value)}"
        }
        return """
            {"cash": \(s.cash), "commission": {"rate": \(s.commission.rate), "fixed": \(s.commission.fixed), "minimum": \(s.commission.minimum)}, \
            "slippage_bps": \(s.slippageBasisPoints), "sizing": \(sizing), "fill": "\(s.fill.rawValue)", \
            "stop_loss": \(s.stopLoss.map { String($0) } ?? "null"), "take_profit": \(s.takeProfit.map { String($0) } ?? "null")}
            """
    }
}

extension MetricConventions {
    var json: String {
        """
        {"periods_per_year": \(periodsPerYear), "risk_free_rate": \(riskFreeRate), "resample": "\(resample)", "deviation": "\(deviation)"}
        """
    }
}

/// PostgreSQL's float8 text: shortest round-trip digits, and its spellings of the non-finite values.
func postgresFloat(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
    return String(value)
}

func doubleValue(_ text: some StringProtocol) -> Double {
    switch text {
    case "NaN": return .nan
    case "Infinity": return .infinity
    case "-Infinity": return -.infinity
    default: return Double(String(text)) ?? .nan
    }
}

func postgresTime(_ seconds: Int64) -> String {
    Date(timeIntervalSince1970: Double(seconds)).postgresText
}

/// Hex text of packed 8-byte little-endian values → the values.
func unpacked(_ hex: String) -> [UInt64] {
    var values: [UInt64] = []
    values.reserveCapacity(hex.utf8.count / 16)
    var value: UInt64 = 0
    var nibbles = 0
    for byte in hex.utf8 {
        let nibble = UInt64(byte <= UInt8(ascii: "9") ? byte &- UInt8(ascii: "0") : byte &- UInt8(ascii: "a") &+ 10) & 0xF
        // Byte k of the little-endian value arrives as two hex digits, high nibble first.
        let shift = UInt64((nibbles / 2) * 8 + (nibbles % 2 == 0 ? 4 : 0))
        value |= nibble << shift
        nibbles += 1
        if nibbles == 16 {
            values.append(value)
            value = 0
            nibbles = 0
        }
    }
    return values
}
