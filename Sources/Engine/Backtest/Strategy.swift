/// What a strategy decides at a bar's close.
public enum Signal: UInt8, Sendable {
    case hold
    /// Go long (ignored while already long).
    case enter
    /// Close the long position (ignored while flat).
    case exit
}

/// A trading rule, fed the bars one at a time in order. It only ever receives a `BarHistory`
/// positioned at the current bar, which can look back (`ago` is unsigned) but has no way to name
/// a later bar: look-ahead cannot be written.
///
/// The simulator is generic over the strategy, so each built-in strategy gets its own
/// specialised loop with no dynamic dispatch per bar.
public protocol BacktestStrategy {
    /// The index of the first bar at which every indicator has a value. Decisions start one bar
    /// later (two indicator values are then available, as a crossover needs), and a signal given
    /// before that is ignored: no trades during warm-up.
    var warmup: Int { get }

    /// Called for every bar, in order, after the bar has closed.
    mutating func next(_ bars: BarHistory) -> Signal
}

/// The bars up to and including the current one. `ago` counts back from the current bar
/// (0 = current); reaching before the first bar is a programming error and traps.
public struct BarHistory {
    /// The current bar's index in the run (0-based).
    public let index: Int
    private let open: UnsafePointer<Double>
    private let high: UnsafePointer<Double>
    private let low: UnsafePointer<Double>
    private let close: UnsafePointer<Double>
    private let volume: UnsafePointer<Double>
    private let closeUnitsBase: UnsafePointer<Int64>
    private let times: UnsafePointer<Int64>

    init(index: Int, open: UnsafePointer<Double>, high: UnsafePointer<Double>, low: UnsafePointer<Double>,
         close: UnsafePointer<Double>, volume: UnsafePointer<Double>, closeUnits: UnsafePointer<Int64>, times: UnsafePointer<Int64>) {
        self.index = index
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
        self.closeUnitsBase = closeUnits
        self.times = times
    }

    @inline(__always) private func position(_ ago: UInt) -> Int {
        precondition(ago <= UInt(index), "a strategy asked for a bar before the first one")
        return index &- Int(ago)
    }

    @inline(__always) public func open(_ ago: UInt = 0) -> Double { open[position(ago)] }
    @inline(__always) public func high(_ ago: UInt = 0) -> Double { high[position(ago)] }
    @inline(__always) public func low(_ ago: UInt = 0) -> Double { low[position(ago)] }
    @inline(__always) public func close(_ ago: UInt = 0) -> Double { close[position(ago)] }
    @inline(__always) public func volume(_ ago: UInt = 0) -> Double { volume[position(ago)] }
    /// The close × 10^8, exact.
    @inline(__always) public func closeUnits(_ ago: UInt = 0) -> Int64 { closeUnitsBase[position(ago)] }
    /// The bar's open time, seconds since 1970 (UTC).
    @inline(__always) public func time(_ ago: UInt = 0) -> Int64 { times[position(ago)] }
}

/// Long when the fast simple moving average of closes crosses above the slow one, flat when it
/// crosses below. Crossing is strict on both bars (previous fast < slow, current fast > slow), as
/// backtesting.py's `crossover`. Averages are exact window sums (integers) divided once, so an
/// average depends on its window only, never on the bars before it.
public struct SMACross: BacktestStrategy {
    public let fast: Int
    public let slow: Int
    private var fastSum: Int64 = 0
    private var slowSum: Int64 = 0
    private var previousFast = Double.nan
    private var previousSlow = Double.nan

    public init(fast: Int, slow: Int) {
        self.fast = fast
        self.slow = slow
    }

    public var warmup: Int { max(fast, slow) - 1 }

    @inline(__always)
    public mutating func next(_ bars: BarHistory) -> Signal {
        let units = bars.closeUnits()
        fastSum &+= units
        slowSum &+= units
        if bars.index >= fast { fastSum &-= bars.closeUnits(UInt(fast)) }
        if bars.index >= slow { slowSum &-= bars.closeUnits(UInt(slow)) }
        let fastAverage = Double(fastSum) / 1e8 / Double(fast)
        let slowAverage = Double(slowSum) / 1e8 / Double(slow)
        defer {
            previousFast = fastAverage
            previousSlow = slowAverage
        }
        // Before both windows are full the comparisons below are false (NaN) or unused (warm-up).
        if previousFast < previousSlow && fastAverage > slowAverage { return .enter }
        if previousFast > previousSlow && fastAverage < slowAverage { return .exit }
        return .hold
    }
}

/// Wilder's relative strength index over `period` bars: long when it is below `low`, flat when it
/// is above `high`. The first averages are plain means of the first `period` changes, then
/// avg = (avg × (period − 1) + change) / period. RSI = 100 − 100 / (1 + avgGain / avgLoss),
/// 100 when there was no loss.
public struct RSIStrategy: BacktestStrategy {
    public let period: Int
    public let low: Double
    public let high: Double
    private var averageGain = 0.0
    private var averageLoss = 0.0

    public init(period: Int, low: Double, high: Double) {
        self.period = period
        self.low = low
        self.high = high
    }

    public var warmup: Int { period }

    @inline(__always)
    public mutating func next(_ bars: BarHistory) -> Signal {
        guard bars.index > 0 else { return .hold }
        // Changes in exact units: the index is scale-free, so no division by 10^8 is needed.
        let change = Double(bars.closeUnits() &- bars.closeUnits(1))
        let gain = change > 0 ? change : 0
        let loss = change < 0 ? -change : 0
        if bars.index <= period {
            averageGain += gain
            averageLoss += loss
            guard bars.index == period else { return .hold }
            averageGain /= Double(period)
            averageLoss /= Double(period)
        } else {
            averageGain = (averageGain * Double(period - 1) + gain) / Double(period)
            averageLoss = (averageLoss * Double(period - 1) + loss) / Double(period)
        }
        let rsi = averageLoss == 0 ? 100 : 100 - 100 / (1 + averageGain / averageLoss)
        if rsi < low { return .enter }
        if rsi > high { return .exit }
        return .hold
    }
}
