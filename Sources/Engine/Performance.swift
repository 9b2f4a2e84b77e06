import Foundation
import Postgres

/// Alert thresholds for the rolling metrics. None has a default: the user decides what is bad.
public struct PerformanceThresholds: Sendable, Equatable {
    /// Alert when the win rate (0...1) is below this.
    public var winRateBelow: Double?
    /// Alert when the profit factor is below this.
    public var profitFactorBelow: Double?
    /// Alert when the maximum drawdown is deeper than this many percent (5 = −5 %).
    public var drawdownBeyondPercent: Double?
    /// Alert at this many losing trades in a row.
    public var consecutiveLosses: Int?

    public init(winRateBelow: Double? = nil, profitFactorBelow: Double? = nil, drawdownBeyondPercent: Double? = nil, consecutiveLosses: Int? = nil) {
        self.winRateBelow = winRateBelow
        self.profitFactorBelow = profitFactorBelow
        self.drawdownBeyondPercent = drawdownBeyondPercent
        self.consecutiveLosses = consecutiveLosses
    }
}

/// The rolling performance of the live ledger over its last closed trades (the data architecture's
/// PerformanceMetric). A trade is one executed sell, its P&L the sum of its FIFO v2 allocations.
public struct PerformanceMetric: Sendable, Equatable {
    public var timestamp: Date
    public var windowSize: Int
    /// Trades in the window (fewer than `windowSize` while the ledger is young).
    public var totalTrades: Int
    /// Winning trades (P&L > 0) / trades; nil without trades.
    public var winRate: Double?
    /// Gross profit / gross loss; nil when there was no loss.
    public var profitFactor: Double?
    /// Largest peak-to-trough fall of equity over the window, in percent (≤ 0); nil without an equity base.
    public var maxDrawdownPercent: Double?
    /// Equity before the window's first trade, from which the drawdown is measured.
    public var equityBase: Double?
    /// Losing trades in a row, most recent first.
    public var consecutiveLosses: Int
    public var alertMessage: String?
    public var alertTriggered: Bool { alertMessage != nil }

    /// The metrics of `pnls` (oldest first, the window already cut), judged against `thresholds`.
    public static func evaluate(pnls: [Double], windowSize: Int, equityBase: Double?, thresholds: PerformanceThresholds, now: Date) -> PerformanceMetric {
        let wins = pnls.filter { $0 > 0 }
        let grossProfit = wins.reduce(0, +)
        let grossLoss = -pnls.filter { $0 < 0 }.reduce(0, +)
        var drawdown: Double?
        if let base = equityBase, base > 0 {
            var equity = base, peak = base, deepest = 0.0
            for pnl in pnls {
                equity += pnl
                peak = max(peak, equity)
                deepest = min(deepest, (equity - peak) / peak * 100)
            }
            drawdown = deepest
        }
        var metric = PerformanceMetric(
            timestamp: now, windowSize: windowSize, totalTrades: pnls.count,
            winRate: pnls.isEmpty ? nil : Double(wins.count) / Double(pnls.count),
            profitFactor: grossLoss > 0 ? grossProfit / grossLoss : nil,
            maxDrawdownPercent: drawdown, equityBase: equityBase,
            consecutiveLosses: pnls.reversed().prefix { $0 < 0 }.count, alertMessage: nil)
        var breaches: [String] = []
        if let limit = thresholds.winRateBelow, let rate = metric.winRate, rate < limit {
            breaches.append("win rate \(percent(rate * 100)) below \(percent(limit * 100))")
        }
        if let limit = thresholds.profitFactorBelow, let factor = metric.profitFactor, factor < limit {
            breaches.append("profit factor \(BacktestReport.fixed(factor, 2)) below \(BacktestReport.fixed(limit, 2))")
        }
        if let limit = thresholds.drawdownBeyondPercent, let depth = drawdown, depth < -limit {
            breaches.append("max drawdown \(percent(depth)) beyond \(percent(-limit))")
        }
        if let limit = thresholds.consecutiveLosses, metric.consecutiveLosses >= limit {
            breaches.append("\(metric.consecutiveLosses) losses in a row (alert at \(limit))")
        }
        metric.alertMessage = breaches.isEmpty ? nil : breaches.joined(separator: "; ")
        return metric
    }

    /// Reads the last `window` trades from the ledger. The equity base is `capital` when given,
    /// else net deposits (cash_transactions) plus the realised P&L of the trades before the window.
    public static func compute(_ connection: PostgresConnection, window: Int, capital: Double?, thresholds: PerformanceThresholds,
                               now: Date) async throws -> PerformanceMetric {
        let trades = try await connection.query("""
            SELECT extract(epoch FROM min(sell_time))::text, sum(pnl)::text FROM fifo_allocations WHERE allocation_version = 2
            GROUP BY sell_order_id ORDER BY min(sell_time) DESC, sell_order_id DESC LIMIT $1
            """, [window]).rows.reversed()
        let pnls = try trades.map { doubleValue(try $0.string(1)) }
        var base = capital
        if base == nil, let first = trades.first {
            let windowStart = Date(timeIntervalSince1970: doubleValue(try first.string(0)))
            base = doubleValue(try await connection.query("""
                SELECT (coalesce((SELECT sum(CASE kind WHEN 'deposit' THEN amount ELSE -amount END) FROM cash_transactions WHERE occurred_at <= $1), 0)
                      + coalesce((SELECT sum(pnl) FROM fifo_allocations WHERE allocation_version = 2 AND sell_time < $1), 0))::text
                """, [windowStart]).rows[0].string(0))
        }
        return evaluate(pnls: pnls, windowSize: window, equityBase: base, thresholds: thresholds, now: now)
    }

    /// The data architecture's JSON shape (one object; a line of performance-alerts.jsonl).
    public var json: String {
        func number(_ value: Double?) -> String { value.map { postgresFloat($0) } ?? "null" }
        let message = alertMessage.map { "\"" + $0.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\"" } ?? "null"
        return """
            {"timestamp": "\(isoTime(Int64(timestamp.timeIntervalSince1970.rounded(.down))))", "window_size": \(windowSize), \
            "win_rate": \(number(winRate)), "profit_factor": \(number(profitFactor)), "max_drawdown_pct": \(number(maxDrawdownPercent)), \
            "consecutive_losses": \(consecutiveLosses), "total_trades": \(totalTrades), "alert_triggered": \(alertTriggered), \
            "alert_message": \(message)}
            """
    }

    public var text: String {
        let drawdown = maxDrawdownPercent.map { "\(percent($0))  (from equity \(BacktestReport.fixed(equityBase ?? 0, 2)))" }
            ?? "-  (no equity base: record deposits in cash_transactions or pass --capital)"
        return """
            performance over the last \(totalTrades) trades (window \(windowSize)), \(isoTime(Int64(timestamp.timeIntervalSince1970.rounded(.down))))
            win rate            \(winRate.map { percent($0 * 100) } ?? "-")
            profit factor       \(profitFactor.map { BacktestReport.fixed($0, 2) } ?? "-")
            max drawdown        \(drawdown)
            consecutive losses  \(consecutiveLosses)
            alert               \(alertMessage.map { "ALERT: " + $0 } ?? "none")

            """
    }
}

private func percent(_ value: Double) -> String { BacktestReport.fixed(value, 1) + " %" }
