import Foundation
import Postgres

/// The weekly strategy review: symbol performance, signal quality and timing over the
/// seven days before `end`, as the text report the host's cron job keeps in logs/.
public struct WeeklyReview: Sendable, Equatable {
    public struct SymbolLine: Sendable, Equatable {
        public var symbol: String
        public var allocations: Int
        public var wins: Int
        public var realisedPnL: Amount
    }

    public struct SignalLine: Sendable, Equatable {
        public var triggerType: String
        public var trades: Int
        public var averageBuyScore: Amount?
    }

    public struct HourLine: Sendable, Equatable {
        public var hour: Int
        public var fills: Int
    }

    public var start: Date
    public var end: Date
    public var symbols: [SymbolLine]
    public var signals: [SignalLine]
    public var hours: [HourLine]
    public var totalPnL: Amount

    public static func compute(_ connection: PostgresConnection, end: Date) async throws -> WeeklyReview {
        let start = end.addingTimeInterval(-7 * 86400)
        let symbols = try await connection.query("""
            SELECT symbol, COUNT(*), COUNT(*) FILTER (WHERE pnl > 0), SUM(pnl)
            FROM fifo_allocations
            WHERE allocation_version = 2 AND sell_time >= $1 AND sell_time < $2
            GROUP BY symbol ORDER BY SUM(pnl) DESC, symbol
            """, [start, end]).rows.map {
            SymbolLine(symbol: try $0.string(0), allocations: try $0.int(1), wins: try $0.int(2), realisedPnL: try $0.decode(Amount.self, 3))
        }
        let signals = try await connection.query("""
            SELECT COALESCE(tsl.trigger_type, '(none)'), COUNT(*), ROUND(AVG(tsl.buy_score), 8)
            FROM trade_strategy_link tsl JOIN trade_records tr ON tr.order_id = tsl.order_id
            WHERE tr.order_time >= $1 AND tr.order_time < $2
            GROUP BY 1 ORDER BY COUNT(*) DESC, 1
            """, [start, end]).rows.map {
            SignalLine(triggerType: try $0.string(0), trades: try $0.int(1), averageBuyScore: $0.optionalString(2).flatMap { Amount($0) })
        }
        let hours = try await connection.query("""
            SELECT EXTRACT(HOUR FROM order_time AT TIME ZONE 'UTC')::int, COUNT(*)
            FROM trade_records
            WHERE order_time >= $1 AND order_time < $2 AND status IN ('filled', 'done')
            GROUP BY 1 ORDER BY 1
            """, [start, end]).rows.map { HourLine(hour: try $0.int(0), fills: try $0.int(1)) }
        return WeeklyReview(start: start, end: end, symbols: symbols, signals: signals, hours: hours,
                            totalPnL: try Amount.sum(symbols.map(\.realisedPnL)))
    }

    public func render() -> String {
        var lines = ["Weekly strategy review \(day(start)) .. \(day(end)) (UTC)", "", "== Symbol performance (FIFO v2, realised)"]
        lines.append(columns(["symbol", "sells", "wins", "win rate", "realised P&L"]))
        for line in symbols {
            let rate = line.allocations == 0 ? "-" : "\(line.wins * 100 / line.allocations)%"
            lines.append(columns([line.symbol, String(line.allocations), String(line.wins), rate, line.realisedPnL.description]))
        }
        lines.append(columns(["total", String(symbols.reduce(0) { $0 + $1.allocations }), "", "", totalPnL.description]))
        lines += ["", "== Signal quality (linked trades)", columns(["trigger", "trades", "avg buy score"])]
        for line in signals {
            lines.append(columns([line.triggerType, String(line.trades), line.averageBuyScore?.description ?? "-"]))
        }
        lines += ["", "== Timing (executed fills by hour, UTC)", columns(["hour", "fills"])]
        for line in hours {
            lines.append(columns([String(format: "%02d", line.hour), String(line.fills)]))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes `weekly_review_YYYY-MM-DD.txt` (the end date) into `directory` via a temporary file
    /// and a rename, so the cron log reader never sees half a report. Returns the path.
    public func write(to directory: String) throws -> String {
        let path = "\(directory)/weekly_review_\(day(end)).txt"
        let temporary = "\(directory)/.weekly_review.\(getpid()).tmp"
        try Data(render().utf8).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot write \(path): \(reason)"])
        }
        return path
    }

    /// The UTC date, from the same formatting that binds dates to queries.
    private func day(_ date: Date) -> String {
        String(date.postgresText.prefix(10))
    }

    private func columns(_ fields: [String]) -> String {
        let widths = [12, 8, 8, 10, 20]
        return fields.enumerated().map { index, field in
            field.padding(toLength: max(widths[min(index, widths.count - 1)], field.count), withPad: " ", startingAt: 0)
        }.joined(separator: " ").trimmingCharacters(in: .whitespaces)
    }
}
