import Engine
import Foundation
import Testing

/// Hand-made bars: each tuple is (open, high, low, close), one 5-minute bar after another.
func bars(_ prices: [(Double, Double, Double, Double)], symbol: String = "TEST", start: Int64 = 1_757_511_000) -> BarSeries {
    var series = BarSeries(symbol: symbol, timeframe: "5m")
    for (index, (open, high, low, close)) in prices.enumerated() {
        func units(_ price: Double) -> Int64 { Int64((price * 1e8).rounded()) }
        series.append(time: start + Int64(index) * 300, openUnits: units(open), highUnits: units(high), lowUnits: units(low),
                      closeUnits: units(close), volume: 100)
    }
    return series
}

/// Flat bars at `price` (open = high = low = close).
func flat(_ price: Double, _ count: Int) -> [(Double, Double, Double, Double)] {
    Array(repeating: (price, price, price, price), count: count)
}

@Suite struct BacktestSimulationTests {
    /// rsi with period 2 enters after a fall (RSI 0 < 30) and exits after a rise (RSI 100 > 70).
    static let rsi = StrategySpec.rsi(period: 2, low: 30, high: 70)

    @Test func ordersFillAtTheNextOpenByDefaultAndAtTheCloseWhenAsked() throws {
        // Falls to bar 3 (enter signal at bar 3's close), rises after (exit signal at bar 5's close).
        let series = bars([(10, 10, 10, 10), (9, 9, 9, 9), (8, 8, 8, 8), (7, 7, 7, 7), (7.5, 8, 7, 7.9), (8, 9, 8, 9), (9.5, 10, 9, 10), (10, 10, 10, 10)])
        let nextOpen = try Backtest.run(BacktestRequest(strategy: Self.rsi), on: series)
        #expect(nextOpen.trades.map { [$0.entryBar, $0.exitBar] } == [[4, 6]])
        #expect(nextOpen.trades.first?.entryPrice == Amount("7.5") && nextOpen.trades.first?.exitPrice == Amount("9.5"))

        var settings = SimulationSettings()
        settings.fill = .close
        let atClose = try Backtest.run(BacktestRequest(strategy: Self.rsi, settings: settings), on: series)
        #expect(atClose.trades.map { [$0.entryBar, $0.exitBar] } == [[3, 5]])
        #expect(atClose.trades.first?.entryPrice == Amount("7") && atClose.trades.first?.exitPrice == Amount("9"))
    }

    @Test func noTradesDuringWarmUp() throws {
        // RSI(2) has its first value at bar 2 (0: below 30), but decisions start at bar 3; after
        // that it stays between 30 and 70.
        let early = bars([(10, 10, 10, 10), (9, 9, 9, 9), (8, 8, 8, 8), (8.5, 8.5, 8.5, 8.5), (9, 9, 9, 9), (9, 9, 9, 9)])
        let result = try Backtest.run(BacktestRequest(strategy: Self.rsi), on: early)
        #expect(result.simulation.firstDecisionBar == 3)
        #expect(result.simulation.fills.isEmpty)
    }

    @Test func commissionRateFixedAndMinimumAreCharged() throws {
        var settings = SimulationSettings()
        settings.cash = 1000
        settings.sizing = .quantity(10)
        settings.commission = Commission(rate: 0.001, fixed: 0.5, minimum: 0.7)
        let series = bars([(10, 10, 10, 10), (9, 9, 9, 9), (8, 8, 8, 8), (7, 7, 7, 7), (10, 10, 10, 10), (30, 30, 30, 30), (30, 30, 30, 30)])
        let result = try Backtest.run(BacktestRequest(strategy: Self.rsi, settings: settings), on: series)
        // Entry: 10 units at 10 (bar 4): max(0.7, 0.5 + 0.1) = 0.7. Exit at 30 (bar 5): max(0.7, 0.5 + 0.3) = 0.8.
        let trade = try #require(result.trades.first)
        #expect(trade.entryPrice == Amount("10") && trade.exitPrice == Amount("30"))
        #expect(trade.fees == Amount("1.5"))
        #expect(trade.pnl == Amount("198.5"))
        #expect(abs((result.simulation.equity.last ?? 0) - 1198.5) < 1e-9)
    }

    @Test func sizingByFractionQuantityAndNotionalBuysWholeUnits() throws {
        let series = bars([(10, 10, 10, 10), (9, 9, 9, 9), (8, 8, 8, 8), (7, 7, 7, 7), (3, 3, 3, 3), (3, 3, 3, 3)])
        func bought(_ sizing: Sizing, cash: Double = 100) throws -> Double? {
            var settings = SimulationSettings()
            settings.cash = cash
            settings.sizing = sizing
            return try Backtest.run(BacktestRequest(strategy: Self.rsi, settings: settings), on: series).simulation.fills.first?.quantity
        }
        #expect(try bought(.fraction(1)) == 33)
        #expect(try bought(.fraction(0.5)) == 16)
        #expect(try bought(.quantity(7)) == 7)
        #expect(try bought(.notional(20)) == 6)
        #expect(try bought(.quantity(34)) == nil, "an order cash cannot cover is not placed")
    }

    @Test func stopLossGapFillsAtTheOpenAndAStopTouchedInsideTheBarFillsAtTheStop() throws {
        var settings = SimulationSettings()
        settings.stopLoss = 0.1
        settings.sizing = .quantity(1)
        // Entry at bar 4's open (10): stop at 9. Bar 5 opens at 8, below the stop: filled at 8.
        let gap = bars(flat(12, 1) + [(11, 11, 11, 11), (10.5, 10.5, 10.5, 10.5), (10, 10, 10, 10), (10, 10, 10, 10), (8, 8.5, 7.5, 8), (8, 8, 8, 8)])
        let gapped = try Backtest.run(BacktestRequest(strategy: Self.rsi, settings: settings), on: gap)
        #expect(gapped.trades.map(\.exitPrice) == [Amount("8")])
        #expect(gapped.trades.map(\.exitReason) == [.stopLoss])
        // Bar 5 opens above the stop and trades through it: filled at the stop, 9.
        let inside = bars(flat(12, 1) + [(11, 11, 11, 11), (10.5, 10.5, 10.5, 10.5), (10, 10, 10, 10), (10, 10, 10, 10), (9.8, 9.9, 8.5, 9.5), (9, 9, 9, 9)])
        let touched = try Backtest.run(BacktestRequest(strategy: Self.rsi, settings: settings), on: inside)
        #expect(touched.trades.map(\.exitPrice) == [Amount("9")])
        #expect(touched.trades.map(\.exitBar) == [5])
    }

    @Test func whenStopAndTargetAreBothTouchedTheStopComesFirst() throws {
        var settings = SimulationSettings()
        settings.stopLoss = 0.1
        settings.takeProfit = 0.1
        settings.sizing = .quantity(1)
        // Entry at 10 (bar 4): stop 9, target 11. Bar 5 touches both.
        let both = bars(flat(12, 1) + [(11, 11, 11, 11), (10.5, 10.5, 10.5, 10.5), (10, 10, 10, 10), (10, 10, 10, 10), (10, 11.5, 8.5, 10), (10, 10, 10, 10)])
        let result = try Backtest.run(BacktestRequest(strategy: Self.rsi, settings: settings), on: both)
        #expect(result.trades.map(\.exitReason) == [.stopLoss])
        #expect(result.trades.map(\.exitPrice) == [Amount("9")])
        // Only the target touched: filled at the target; a gap above it fills at the open.
        let target = bars(flat(12, 1) + [(11, 11, 11, 11), (10.5, 10.5, 10.5, 10.5), (10, 10, 10, 10), (10, 10, 10, 10), (10, 11.5, 9.5, 10), (10, 10, 10, 10)])
        #expect(try Backtest.run(BacktestRequest(strategy: Self.rsi, settings: settings), on: target).trades.map(\.exitPrice) == [Amount("11")])
        let gapUp = bars(flat(12, 1) + [(11, 11, 11, 11), (10.5, 10.5, 10.5, 10.5), (10, 10, 10, 10), (10, 10, 10, 10), (12, 12.5, 11.8, 12), (10, 10, 10, 10)])
        #expect(try Backtest.run(BacktestRequest(strategy: Self.rsi, settings: settings), on: gapUp).trades.map(\.exitPrice) == [Amount("12")])
    }

    @Test func slippageMakesEntriesDearerAndExitsCheaper() throws {
        var settings = SimulationSettings()
        settings.slippageBasisPoints = 100
        settings.sizing = .quantity(1)
        let series = bars([(10, 10, 10, 10), (9, 9, 9, 9), (8, 8, 8, 8), (7, 7, 7, 7), (10, 10, 10, 10), (11, 11, 11, 11), (12, 12, 12, 12)])
        let trade = try #require(try Backtest.run(BacktestRequest(strategy: Self.rsi, settings: settings), on: series).trades.first)
        #expect(trade.entryPrice == Amount("10.1") && trade.exitPrice == Amount("10.89"))
    }

    @Test func shiftingTheDataByOneBarShiftsTheTradesByOneBar() throws {
        let original = try BarGenerator(symbols: ["SPY"], days: 30, seed: 9).generate()[0]
        // The same bars one bar later: one extra bar in front.
        var shifted = BarSeries(symbol: "SPY", timeframe: "5m")
        let first = Int64((original.open[0] * 1e8).rounded())
        shifted.append(time: original.times[0] - 300, openUnits: first, highUnits: first, lowUnits: first, closeUnits: first, volume: 1)
        for index in 0..<original.count {
            func units(_ price: Double) -> Int64 { Int64((price * 1e8).rounded()) }
            shifted.append(time: original.times[index], openUnits: units(original.open[index]), highUnits: units(original.high[index]),
                           lowUnits: units(original.low[index]), closeUnits: original.closeUnits[index], volume: original.volume[index])
        }
        let request = BacktestRequest(strategy: .smaCross(fast: 10, slow: 50), settings: SimulationSettings())
        let before = try Backtest.run(request, on: original).trades
        let after = try Backtest.run(request, on: shifted).trades
        #expect(before.count > 5)
        #expect(after.map { [$0.entryBar, $0.exitBar] } == before.map { [$0.entryBar + 1, $0.exitBar + 1] })
        #expect(after.map(\.entryPrice) == before.map(\.entryPrice))
        #expect(after.map(\.pnl) == before.map(\.pnl))
    }

    @Test func sameInputsGiveTheSameResult() throws {
        let series = try BarGenerator(symbols: ["TSLA"], days: 20, seed: 4).generate()[0]
        var settings = SimulationSettings()
        settings.commission = Commission(rate: 0.001)
        settings.stopLoss = 0.01
        let request = BacktestRequest(strategy: .rsi(period: 14, low: 30, high: 70), settings: settings)
        let first = try Backtest.run(request, on: series)
        let second = try Backtest.run(request, on: series)
        #expect(first.trades == second.trades && first.simulation == second.simulation && first.digest == second.digest)
        #expect(first.metrics.sharpe.bitPattern == second.metrics.sharpe.bitPattern)
    }

    @Test func badParametersAreRejectedWithTheirName() {
        #expect(throws: BacktestError.unknownStrategy("macd")) { try StrategySpec.parse(name: "macd", parameters: []) }
        #expect(throws: BacktestError.invalidParameter(strategy: "sma-cross", parameter: "speed", problem: "unknown parameter; sma-cross takes fast, slow")) {
            try StrategySpec.parse(name: "sma-cross", parameters: ["speed=3"])
        }
        #expect(throws: BacktestError.invalidParameter(strategy: "sma-cross", parameter: "fast", problem: "'ten' is not a whole number in 1...100000")) {
            try StrategySpec.parse(name: "sma-cross", parameters: ["fast=ten"])
        }
        #expect(throws: BacktestError.invalidParameter(strategy: "sma-cross", parameter: "fast", problem: "must be less than slow (50 ≥ 20)")) {
            try StrategySpec.parse(name: "sma-cross", parameters: ["fast=50", "slow=20"])
        }
        #expect(throws: BacktestError.invalidParameter(strategy: "rsi", parameter: "low", problem: "'nan' is not a number in 0...100")) {
            try StrategySpec.parse(name: "rsi", parameters: ["low=nan"])
        }
        #expect(throws: BacktestError.invalidParameter(strategy: "rsi", parameter: "period", problem: "given twice")) {
            try StrategySpec.parse(name: "rsi", parameters: ["period==", "period=="])
        }
        #expect(throws: BacktestError.startAfterEnd(start: "2025-10-02", end: "2025-10-01")) {
            try TimeRange.parse(start: "2025-10-02", end: "2025-10-01")
        }
        #expect(throws: BacktestError.notEnoughBars(found: 3, needed: 50, strategy: "sma-cross")) {
            try Backtest.run(BacktestRequest(strategy: .smaCross(fast: 10, slow: 49)), on: bars(flat(1, 3)))
        }
    }

    @Test(arguments: ["fast", "slow", "period", "low", "high", "", "=", "x=1=2"])
    func noParameterTextCrashesTheParser(_ key: String) {
        for value in ["", "-1", "0", "1e400", "nan", "inf", "99999999999999999999", "3.5", "🙂", "10"] {
            _ = try? StrategySpec.parse(name: "sma-cross", parameters: ["\(key)=\(value)"])
            _ = try? StrategySpec.parse(name: "rsi", parameters: ["\(key)=\(value)", key])
        }
    }
}
