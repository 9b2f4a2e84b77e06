import Foundation

/// The conventions a run's metrics were computed with; stored beside them.
public struct MetricConventions: Sendable, Equatable, Codable {
    /// Daily returns per year: 252, or 365 for crypto symbols and for data with weekend bars.
    public var periodsPerYear: Int
    /// Annual risk-free rate (0.04 = 4 %), subtracted from the annualised return.
    public var riskFreeRate: Double
    /// Returns are taken from equity resampled to UTC days (last value of each day with bars).
    public var resample: String = "1 day (UTC), last equity of each day with bars"
    /// Standard deviations and variances divide by n − 1.
    public var deviation: String = "sample (n - 1)"

    public init(periodsPerYear: Int, riskFreeRate: Double = 0) {
        self.periodsPerYear = periodsPerYear
        self.riskFreeRate = riskFreeRate
    }

    /// backtesting.py's rule (365 when more than 60 % of a 7-day week's share of bars fall on
    /// Saturdays and Sundays, else 252), with crypto symbols (`BTC-USD`) always 365.
    public static func periodsPerYear(symbol: String, times: [Int64]) -> Int {
        if symbol.contains("-") { return 365 }
        guard !times.isEmpty else { return 252 }
        let weekend = times.reduce(0) { count, time in
            // 1970-01-01 was a Thursday: day 0 → weekday index 3 with Monday = 0.
            let weekday = (Int((time >= 0 ? time : time - 86_399) / 86_400) % 7 + 7 + 3) % 7
            return count + (weekday >= 5 ? 1 : 0)
        }
        return Double(weekend) / Double(times.count) > 2.0 / 7.0 * 0.6 ? 365 : 252
    }
}

/// A closed round trip, as metrics need it.
public struct TradeOutcome: Sendable, Equatable {
    public var entryBar: Int
    public var exitBar: Int
    public var entryTime: Int64
    public var exitTime: Int64
    public var pnl: Double
    /// pnl / (quantity × entry price).
    public var returnFraction: Double
    public var fees: Double
}

/// Every metric of a run, as backtesting.py 0.6.6 defines it (`backtesting/_stats.py`); the README
/// gives each formula. Undefined values (no trades, no losses, …) are NaN; durations are seconds.
public struct BacktestMetrics: Sendable, Equatable {
    public var exposurePercent = Double.nan
    public var equityFinal = Double.nan
    public var equityPeak = Double.nan
    public var feesPaid = Double.nan
    public var returnPercent = Double.nan
    public var buyAndHoldReturnPercent = Double.nan
    public var annualReturnPercent = Double.nan
    public var annualVolatilityPercent = Double.nan
    public var cagrPercent = Double.nan
    public var sharpe = Double.nan
    public var sortino = Double.nan
    public var calmar = Double.nan
    public var maxDrawdownPercent = Double.nan
    public var averageDrawdownPercent = Double.nan
    public var maxDrawdownDuration = Double.nan
    public var averageDrawdownDuration = Double.nan
    public var tradeCount = Double.nan
    public var winRatePercent = Double.nan
    public var bestTradePercent = Double.nan
    public var worstTradePercent = Double.nan
    public var averageTradePercent = Double.nan
    public var maxTradeDuration = Double.nan
    public var averageTradeDuration = Double.nan
    public var profitFactor = Double.nan
    public var expectancyPercent = Double.nan
    public var sqn = Double.nan

    public init() {}

    public enum Kind: Sendable { case percent, money, ratio, count, duration }

    public struct Field: Sendable {
        /// Column and JSON name.
        public let name: String
        public let label: String
        public let kind: Kind
        public let keyPath: WritableKeyPath<BacktestMetrics, Double> & Sendable
    }

    /// The metrics in display order; storage, JSON and compare all go by this list.
    public static let fields: [Field] = [
        Field(name: "return_pct", label: "Return [%]", kind: .percent, keyPath: \.returnPercent),
        Field(name: "buy_hold_return_pct", label: "Buy & Hold Return [%]", kind: .percent, keyPath: \.buyAndHoldReturnPercent),
        Field(name: "annual_return_pct", label: "Return (Ann.) [%]", kind: .percent, keyPath: \.annualReturnPercent),
        Field(name: "cagr_pct", label: "CAGR [%]", kind: .percent, keyPath: \.cagrPercent),
        Field(name: "annual_volatility_pct", label: "Volatility (Ann.) [%]", kind: .percent, keyPath: \.annualVolatilityPercent),
        Field(name: "sharpe", label: "Sharpe Ratio", kind: .ratio, keyPath: \.sharpe),
        Field(name: "sortino", label: "Sortino Ratio", kind: .ratio, keyPath: \.sortino),
        Field(name: "calmar", label: "Calmar Ratio", kind: .ratio, keyPath: \.calmar),
        Field(name: "max_drawdown_pct", label: "Max. Drawdown [%]", kind: .percent, keyPath: \.maxDrawdownPercent),
        Field(name: "avg_drawdown_pct", label: "Avg. Drawdown [%]", kind: .percent, keyPath: \.averageDrawdownPercent),
        Field(name: "max_drawdown_duration_s", label: "Max. Drawdown Duration", kind: .duration, keyPath: \.maxDrawdownDuration),
        Field(name: "avg_drawdown_duration_s", label: "Avg. Drawdown Duration", kind: .duration, keyPath: \.averageDrawdownDuration),
        Field(name: "exposure_pct", label: "Exposure Time [%]", kind: .percent, keyPath: \.exposurePercent),
        Field(name: "equity_final", label: "Equity Final [$]", kind: .money, keyPath: \.equityFinal),
        Field(name: "equity_peak", label: "Equity Peak [$]", kind: .money, keyPath: \.equityPeak),
        Field(name: "fees_paid", label: "Commissions [$]", kind: .money, keyPath: \.feesPaid),
        Field(name: "trades", label: "# Trades", kind: .count, keyPath: \.tradeCount),
        Field(name: "win_rate_pct", label: "Win Rate [%]", kind: .percent, keyPath: \.winRatePercent),
        Field(name: "best_trade_pct", label: "Best Trade [%]", kind: .percent, keyPath: \.bestTradePercent),
        Field(name: "worst_trade_pct", label: "Worst Trade [%]", kind: .percent, keyPath: \.worstTradePercent),
        Field(name: "avg_trade_pct", label: "Avg. Trade [%]", kind: .percent, keyPath: \.averageTradePercent),
        Field(name: "max_trade_duration_s", label: "Max. Trade Duration", kind: .duration, keyPath: \.maxTradeDuration),
        Field(name: "avg_trade_duration_s", label: "Avg. Trade Duration", kind: .duration, keyPath: \.averageTradeDuration),
        Field(name: "profit_factor", label: "Profit Factor", kind: .ratio, keyPath: \.profitFactor),
        Field(name: "expectancy_pct", label: "Expectancy [%]", kind: .percent, keyPath: \.expectancyPercent),
        Field(name: "sqn", label: "SQN", kind: .ratio, keyPath: \.sqn),
    ]

    /// Computes every metric. `equity` has one value per bar of `times`; `firstTradingBar` is the
    /// strategy's warm-up (buy and hold starts at that bar's close, as in backtesting.py).
    public static func compute(equity: [Double], times: [Int64], closes: [Double], firstTradingBar: Int,
                               trades: [TradeOutcome], conventions: MetricConventions) -> BacktestMetrics {
        var m = BacktestMetrics()
        let count = equity.count
        guard count > 0, times.count == count, closes.count == count else { return m }
        let first = equity[0]
        let final = equity[count - 1]

        // Drawdown: 1 − equity / running peak.
        var peak = -Double.infinity
        var drawdown = [Double](repeating: 0, count: count)
        for index in 0..<count {
            peak = max(peak, equity[index])
            drawdown[index] = 1 - equity[index] / peak
        }
        let periods = drawdownPeriods(drawdown, times: times)
        let resolution = durationResolution(times)

        var exposed = [Bool](repeating: false, count: count)
        for trade in trades where trade.entryBar <= trade.exitBar {
            for bar in max(0, trade.entryBar)...min(count - 1, trade.exitBar) { exposed[bar] = true }
        }
        m.exposurePercent = Double(exposed.reduce(0) { $0 + ($1 ? 1 : 0) }) / Double(count) * 100
        m.equityFinal = final
        m.equityPeak = equity.max() ?? .nan
        m.feesPaid = trades.reduce(0) { $0 + $1.fees }
        m.returnPercent = (final - first) / first * 100
        let base = closes[min(max(firstTradingBar, 0), count - 1)]
        m.buyAndHoldReturnPercent = (closes[count - 1] - base) / base * 100

        let dayReturns = dailyReturns(equity: equity, times: times)
        let dayMean = geometricMean(dayReturns)
        let years = Double(conventions.periodsPerYear)
        let annualReturn = pow(1 + dayMean, years) - 1
        m.annualReturnPercent = annualReturn * 100
        m.annualVolatilityPercent = (pow(sampleVariance(dayReturns) + pow(1 + dayMean, 2), years) - pow(1 + dayMean, 2 * years)).squareRoot() * 100
        let seconds = times[count - 1] - times[0]
        let timeInYears = (Double(seconds / 86_400) + Double(seconds % 86_400) / 86_400) / 365.25
        m.cagrPercent = timeInYears != 0 ? (pow(final / first, 1 / timeInYears) - 1) * 100 : .nan
        let riskFree = conventions.riskFreeRate
        m.sharpe = (m.annualReturnPercent - riskFree * 100) / nanIfZero(m.annualVolatilityPercent)
        let downside = dayReturns.isEmpty ? Double.nan : dayReturns.reduce(0) { $0 + pow(min($1, 0), 2) } / Double(dayReturns.count)
        m.sortino = (annualReturn - riskFree) / (downside.squareRoot() * years.squareRoot())
        let maxDrawdown = drawdown.max().map { $0.isNaN ? 0 : $0 } ?? 0
        m.calmar = annualReturn / nanIfZero(maxDrawdown)
        m.maxDrawdownPercent = -maxDrawdown * 100
        m.averageDrawdownPercent = periods.isEmpty ? .nan : -mean(periods.map(\.depth)) * 100
        m.maxDrawdownDuration = periods.isEmpty ? .nan : ceiling(Double(periods.map(\.duration).max() ?? 0), to: resolution)
        m.averageDrawdownDuration = periods.isEmpty ? .nan : ceiling(mean(periods.map { Double($0.duration) }), to: resolution)

        m.tradeCount = Double(trades.count)
        let pnls = trades.map(\.pnl)
        let returns = trades.map(\.returnFraction)
        m.winRatePercent = trades.isEmpty ? .nan : Double(pnls.filter { $0 > 0 }.count) / Double(trades.count) * 100
        m.bestTradePercent = (returns.max() ?? .nan) * 100
        m.worstTradePercent = (returns.min() ?? .nan) * 100
        m.averageTradePercent = geometricMean(returns) * 100
        let durations = trades.map { Double($0.exitTime - $0.entryTime) }
        m.maxTradeDuration = durations.max().map { ceiling($0, to: resolution) } ?? .nan
        m.averageTradeDuration = durations.isEmpty ? .nan : ceiling(mean(durations), to: resolution)
        let gains = returns.filter { $0 > 0 }.reduce(0, +)
        let losses = returns.filter { $0 < 0 }.reduce(0, +)
        m.profitFactor = gains / nanIfZero(abs(losses))
        m.expectancyPercent = mean(returns) * 100
        m.sqn = Double(trades.count).squareRoot() * mean(pnls) / nanIfZero(sampleVariance(pnls).squareRoot())
        return m
    }

    /// Day-over-day returns of the last equity of each UTC day that has bars.
    static func dailyReturns(equity: [Double], times: [Int64]) -> [Double] {
        var closes: [Double] = []
        var currentDay = Int64.min
        for index in equity.indices {
            let day = times[index] >= 0 ? times[index] / 86_400 : (times[index] - 86_399) / 86_400
            if day == currentDay {
                closes[closes.count - 1] = equity[index]
            } else {
                closes.append(equity[index])
                currentDay = day
            }
        }
        guard closes.count > 1 else { return [] }
        return (1..<closes.count).map { closes[$0] / closes[$0 - 1] - 1 }
    }

    /// exp(mean(log(1 + r))) − 1; 0 if any 1 + r ≤ 0; NaN for no returns.
    static func geometricMean(_ returns: [Double]) -> Double {
        guard !returns.isEmpty else { return .nan }
        var logSum = 0.0
        for value in returns {
            let growth = value + 1
            if growth <= 0 { return 0 }
            logSum += log(growth)
        }
        return exp(logSum / Double(returns.count)) - 1
    }

    static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }

    /// Σ(x − mean)² / (n − 1); NaN below two values.
    static func sampleVariance(_ values: [Double]) -> Double {
        guard values.count > 1 else { return .nan }
        let average = mean(values)
        return values.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(values.count - 1)
    }

    static func nanIfZero(_ value: Double) -> Double { value == 0 ? .nan : value }

    struct DrawdownPeriod: Equatable {
        var duration: Int64
        var depth: Double
    }

    /// Drawdown periods as backtesting.py delimits them: between consecutive bars at a new peak
    /// (drawdown 0), with the last bar closing an unfinished one; a period needs a bar in between.
    static func drawdownPeriods(_ drawdown: [Double], times: [Int64]) -> [DrawdownPeriod] {
        var marks = drawdown.indices.filter { drawdown[$0] == 0 }
        if marks.last != drawdown.count - 1 { marks.append(drawdown.count - 1) }
        var periods: [DrawdownPeriod] = []
        for (previous, mark) in zip(marks, marks.dropFirst()) where mark > previous + 1 {
            periods.append(DrawdownPeriod(duration: times[mark] - times[previous], depth: drawdown[previous...mark].max() ?? 0))
        }
        return periods
    }

    /// The unit durations are rounded up to: the finest non-zero unit (day, hour, minute, second)
    /// of the median spacing of the last 100 bars, as backtesting.py rounds Timedeltas.
    static func durationResolution(_ times: [Int64]) -> Double {
        let tail = times.suffix(100)
        let gaps = zip(tail.dropFirst(), tail).map { $0 - $1 }.sorted()
        guard !gaps.isEmpty else { return 1 }
        let median = gaps.count % 2 == 1 ? gaps[gaps.count / 2] : (gaps[gaps.count / 2 - 1] + gaps[gaps.count / 2]) / 2
        for unit: Int64 in [86_400, 3_600, 60] where median % unit == 0 { return Double(unit) }
        return 1
    }

    static func ceiling(_ seconds: Double, to unit: Double) -> Double {
        (seconds / unit).rounded(.up) * unit
    }
}
