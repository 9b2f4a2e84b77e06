import Engine
import Testing

/// Inputs at the edge of what the simulation's number types hold: refused with a message, never
/// trapped on or silently wrapped.
@Suite struct BacktestLimitsTests {
    static let falling = bars([(10, 10, 10, 10), (9, 9, 9, 9), (8, 8, 8, 8), (7, 7, 7, 7), (3, 3, 3, 3), (3, 3, 3, 3)])

    /// --cash 1e300 buys ~1e299 units; turning that into a ledger amount used to trap
    /// (Int128 from an out-of-range Double).
    @Test(arguments: [Sizing.fraction(1), .notional(1e300)])
    func hugeCashIsRefusedNotTrappedOn(_ sizing: Sizing) {
        var settings = SimulationSettings()
        settings.cash = 1e300
        settings.sizing = sizing
        #expect(throws: BacktestError.self) {
            try Backtest.run(BacktestRequest(strategy: .rsi(period: 2, low: 30, high: 70), settings: settings), on: Self.falling)
        }
    }

    /// sma-cross sums `slow` closes in 64-bit units of 10^-8. 100 closes near 10^9 exceed that: the
    /// sums used to wrap and the averages (and trades) came out as garbage; now the run is refused.
    @Test func smaSumsThatCannotBeHeldAreRefused() throws {
        func series(_ scale: Double) -> BarSeries {
            bars((0..<400).map { index in
                let price = (1 + 0.3 * (index % 160 < 80 ? 1.0 : 0.0) + Double(index % 7) / 100) * scale
                return (price, price, price, price)
            })
        }
        let spec = StrategySpec.smaCross(fast: 5, slow: 100)
        var settings = SimulationSettings()
        settings.sizing = .quantity(1)
        settings.cash = 1e12
        // The same shape at a price that fits trades (a check that the shape crosses at all).
        let small = try Backtest.run(BacktestRequest(strategy: spec, settings: settings), on: series(1_000_000))
        #expect(!small.trades.isEmpty)
        #expect(throws: BacktestError.self) {
            try Backtest.run(BacktestRequest(strategy: spec, settings: settings), on: series(1_000_000_000))
        }
        // At the largest price that fits 100 closes, the run goes ahead with the same trades.
        let largest = try Backtest.run(BacktestRequest(strategy: spec, settings: settings), on: series(90_000_000))
        #expect(largest.trades.map(\.entryBar) == small.trades.map(\.entryBar))
    }
}

extension BacktestLimitsTests {
    /// 10^13 cash at a price of 1 buys 10^13 units, more than the trade rows' numeric(20, 8)
    /// quantity holds: refused when the run is computed, not at the COPY half-way through saving.
    @Test func fillsBeyondTheLedgerColumnsAreRefused() {
        var settings = SimulationSettings()
        settings.cash = 1e13
        let cheap = bars([(10, 10, 10, 10), (9, 9, 9, 9), (8, 8, 8, 8), (7, 7, 7, 7), (1, 1, 1, 1), (3, 3, 3, 3), (3, 3, 3, 3)])
        #expect(throws: BacktestError.self) {
            try Backtest.run(BacktestRequest(strategy: .rsi(period: 2, low: 30, high: 70), settings: settings), on: cheap)
        }
    }
}
