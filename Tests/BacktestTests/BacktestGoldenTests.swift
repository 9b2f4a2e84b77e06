import Engine
import Foundation
import SandboxSupport
import Testing

/// The engine against backtesting.py 0.6.6 itself on generated data: identical trade lists, every
/// shared metric within 1e-9 relative.
@Suite(.enabled(if: ReferencePython.installed || ReferencePython.required, "needs scripts/backtest-venv (scripts/test runs it)"))
struct BacktestGoldenTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var symbol: String
        var seed: UInt64
        var strategy: String
        var parameters: [String]
        var commission: Commission
        var fill: FillTiming = .open
        var cash: Double = 10_000
        var riskFree: Double = 0
        /// Only with fills at the close: backtesting.py takes bracket prices when the order is placed.
        var stopLoss: Double?
        var takeProfit: Double?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "sma-cross 10/50, 0.1 % commission", symbol: "SPY", seed: 7, strategy: "sma-cross", parameters: ["fast=10", "slow=50"],
             commission: Commission(rate: 0.001)),
        Case(name: "sma-cross 5/20, rate + fixed + minimum", symbol: "TSLA", seed: 11, strategy: "sma-cross", parameters: ["fast=5", "slow=20"],
             commission: Commission(rate: 0.0005, fixed: 1, minimum: 2.5), cash: 25_000),
        Case(name: "sma-cross 10/50, fills at the close", symbol: "AAPL", seed: 3, strategy: "sma-cross", parameters: [],
             commission: Commission(rate: 0.002), fill: .close),
        Case(name: "rsi 14/30/70, 0.1 % commission", symbol: "SPY", seed: 7, strategy: "rsi", parameters: ["period=14", "low=30", "high=70"],
             commission: Commission(rate: 0.001)),
        Case(name: "rsi 7/25/60, minimum commission", symbol: "AAPL", seed: 5, strategy: "rsi", parameters: ["period=7", "low=25", "high=60"],
             commission: Commission(rate: 0.0002, minimum: 1), cash: 3_000),
        Case(name: "sma-cross 10/30, 4 % risk-free rate", symbol: "TSLA", seed: 8, strategy: "sma-cross", parameters: ["fast=10", "slow=30"],
             commission: Commission(rate: 0.001), riskFree: 0.04),
        Case(name: "sma-cross 5/20, fills at the close, 1 % stop-loss and 2 % take-profit", symbol: "TSLA", seed: 11, strategy: "sma-cross",
             parameters: ["fast=5", "slow=20"], commission: Commission(rate: 0.001), fill: .close, stopLoss: 0.01, takeProfit: 0.02),
        Case(name: "rsi 14/30/70, fills at the close, 0.5 % stop-loss", symbol: "SPY", seed: 7, strategy: "rsi",
             parameters: ["period=14", "low=30", "high=70"], commission: Commission(rate: 0.001), fill: .close, stopLoss: 0.005),
    ]

    @Test(arguments: cases)
    func matchesBacktestingPy(_ golden: Case) async throws {
        guard ReferencePython.installed else { throw ReferencePython.Missing() }
        var settings = SimulationSettings()
        settings.cash = golden.cash
        settings.commission = golden.commission
        settings.fill = golden.fill
        settings.stopLoss = golden.stopLoss
        settings.takeProfit = golden.takeProfit
        let spec = try StrategySpec.parse(name: golden.strategy, parameters: golden.parameters)
        // Seconds of CPU per case: on a thread of its own, so eight cases never hold the cooperative pool.
        let request = BacktestRequest(strategy: spec, settings: settings, riskFreeRate: golden.riskFree)
        let (bars, ours) = try await onOwnThread {
            Result { () throws -> (BarSeries, BacktestResult) in
                let bars = try BarGenerator(symbols: [golden.symbol], days: 60, seed: golden.seed).generate()[0]
                return (bars, try Backtest.run(request, on: bars))
            }
        }.get()

        var parameters: [String: Any] = [:]
        for (name, value) in spec.parameters { parameters[name] = Double(value) ?? 0 }
        if case let .smaCross(fast, slow) = spec { parameters = ["fast": fast, "slow": slow] }
        if case let .rsi(period, low, high) = spec { parameters = ["period": period, "low": low, "high": high] }
        let theirs = try await ReferencePython.run(bars, spec: [
            "strategy": golden.strategy, "params": parameters, "cash": golden.cash, "fill": golden.fill.rawValue, "risk_free_rate": golden.riskFree,
            "commission": ["rate": golden.commission.rate, "fixed": golden.commission.fixed, "minimum": golden.commission.minimum],
            "stop_loss": golden.stopLoss ?? NSNull(), "take_profit": golden.takeProfit ?? NSNull(),
        ])

        #expect(theirs.trades.count > 5, "too few trades to say much: pick another seed")
        #expect(ours.trades.count == theirs.trades.count)
        #expect(golden.stopLoss == nil || ours.trades.contains { $0.exitReason == .stopLoss }, "no stop-loss exit: the case checks no stops")
        #expect(golden.takeProfit == nil || ours.trades.contains { $0.exitReason == .takeProfit }, "no take-profit exit: the case checks no targets")
        for (mine, reference) in zip(ours.trades, theirs.trades) {
            #expect(mine.entryBar == reference.entry_bar && mine.exitBar == reference.exit_bar)
            #expect(double(mine.quantity) == reference.size)
            #expect(double(mine.entryPrice) == reference.entry_price)
            // A stop or target level (entry × (1 ∓ fraction)) is kept to the ledger's 8 decimals.
            let exitTolerance = mine.exitReason == .signal ? 0 : 0.5e-8
            #expect(abs(double(mine.exitPrice) - reference.exit_price) <= exitTolerance, "exit \(mine.exitPrice) vs \(reference.exit_price)")
            #expect(close(double(mine.fees), reference.commission), "fees \(mine.fees) vs \(reference.commission)")
            #expect(close(double(mine.pnl), reference.pnl), "pnl \(mine.pnl) vs \(reference.pnl)")
            #expect(close(mine.returnFraction, reference.return), "return \(mine.returnFraction) vs \(reference.return)")
        }
        #expect(ours.simulation.equity.count == theirs.equity.count)
        let equityMismatches = zip(ours.simulation.equity, theirs.equity).filter { !close($0, $1) }.count
        #expect(equityMismatches == 0)

        for field in BacktestMetrics.fields {
            let mine = ours.metrics[keyPath: field.keyPath]
            let reference = theirs.stats[field.name].flatMap { $0?.value } ?? .nan
            #expect(close(mine, reference), "\(field.label): engine \(mine), backtesting.py \(reference)")
        }
    }

    /// Equal within 1e-9 relative (NaN equals NaN, infinities must match). Differences come from
    /// summation order and from the ledger's exact 8-decimal amounts against binary floats.
    func close(_ a: Double, _ b: Double) -> Bool {
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
        if a.isInfinite || b.isInfinite { return a == b }
        return abs(a - b) <= 1e-9 * max(abs(a), abs(b)) || abs(a - b) < 1e-12
    }
}

func double(_ amount: Amount) -> Double { Double(amount.description) ?? .nan }
