// The backtest simulation core (issue 10's target: ≥ 50 million bars/s single-threaded for SMA
// 10/50 with fees and per-bar mark-to-market), with baselines measured in the same run over the
// same arrays: a plain sum of the closes (the memory-bound floor) and a rolling SMA 10/50
// crossover count with nothing else (the indicator cost alone).
// Usage: BacktestBench [BARS]   (default 5,000,000; run from bench/backtest.py)
import Engine
import Foundation

let count = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 5_000_000 : 5_000_000
var bars = BarSeries(symbol: "BENCH", timeframe: "1m")
bars.reserveCapacity(count)
var state: UInt64 = 0x1234_5678
var price: Int64 = 100_000_000_00
for index in 0..<count {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    let step = Int64(state >> 54) - 512 // ±5.12 cents
    let open = price
    price = max(1_000_000, price + step * 1_000_000)
    let high = max(open, price) + 2_000_000, low = max(1, min(open, price) - 2_000_000)
    bars.append(time: 1_600_000_000 + Int64(index) * 60, openUnits: open, highUnits: high, lowUnits: low, closeUnits: price, volume: 100)
}

let clock = ContinuousClock()
func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
/// The best of `rounds` timings: the least disturbed by the other work on the machine.
func best(_ rounds: Int = 7, _ body: () -> Double) -> (seconds: Double, check: Double) {
    var fastest = Double.infinity, check = 0.0
    for _ in 0..<rounds {
        let start = clock.now
        check = body()
        fastest = min(fastest, seconds(clock.now - start))
    }
    return (fastest, check)
}

let closes = bars.close
let plainSum = best {
    closes.withUnsafeBufferPointer { buffer in
        var total = 0.0
        for value in buffer { total += value }
        return total
    }
}
let units = bars.closeUnits
let smaOnly = best {
    units.withUnsafeBufferPointer { u in
        var fast: Int64 = 0, slow: Int64 = 0, previous = false, crossings = 0.0
        for index in 0..<u.count {
            fast &+= u[index]; slow &+= u[index]
            if index >= 10 { fast &-= u[index - 10] }
            if index >= 50 { slow &-= u[index - 50] }
            let above = Double(fast) / 1e8 / 10 > Double(slow) / 1e8 / 50
            if above != previous { crossings += 1 }
            previous = above
        }
        return crossings
    }
}
var settings = SimulationSettings()
settings.commission = Commission(rate: 0.001)
let simulation = best {
    Double(Backtest.simulate(.smaCross(fast: 10, slow: 50), bars: bars, settings: settings).fills.count)
}

func rate(_ seconds: Double) -> Double { Double(count) / seconds / 1e6 }
print(String(format: "bars %d", count))
print(String(format: "plain sum of closes           %8.1f M bars/s   (baseline)", rate(plainSum.seconds)))
print(String(format: "SMA 10/50 crossings only      %8.1f M bars/s   %.2fx the plain sum's time", rate(smaOnly.seconds), smaOnly.seconds / plainSum.seconds))
print(String(format: "simulation sma-cross 10/50    %8.1f M bars/s   %.2fx the plain sum's time, %.0f fills  (target >= 50 M bars/s: %@)",
             rate(simulation.seconds), simulation.seconds / plainSum.seconds, simulation.check,
             rate(simulation.seconds) >= 50 ? "PASS" : "FAIL"))

// In memory, everything a run computes (simulation, FIFO round trips, metrics, bar digest), on
// the 3,276 bars bench/backtest.py also gives backtesting.py (seed 42, 58 days of SPY from
// 2025-09-10) and on the first 1,000,000 bars above.
let spy = try BarGenerator(symbols: ["SPY"], days: 58, seed: 42).generate()[0]
let request = BacktestRequest(strategy: .smaCross(fast: 10, slow: 50), settings: settings)
let small = best(21) { (try? Backtest.run(request, on: spy).trades.count).map(Double.init) ?? -1 }
print(String(format: "Backtest.run in memory, %d bars      %8.3f ms  (%.0f trades)", spy.count, small.seconds * 1000, small.check))
let million = bars.slice(0..<min(count, 1_000_000))
let large = best(5) { (try? Backtest.run(request, on: million).trades.count).map(Double.init) ?? -1 }
print(String(format: "Backtest.run in memory, %d bars   %8.1f ms  (%.0f trades)", million.count, large.seconds * 1000, large.check))
