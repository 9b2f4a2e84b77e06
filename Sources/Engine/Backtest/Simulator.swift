import Foundation

/// Commission per fill: max(minimum, fixed + quantity × price × rate).
public struct Commission: Sendable, Equatable, Codable {
    public var rate: Double
    public var fixed: Double
    public var minimum: Double

    public init(rate: Double = 0, fixed: Double = 0, minimum: Double = 0) {
        self.rate = rate
        self.fixed = fixed
        self.minimum = minimum
    }

    @inline(__always) func fee(quantity: Double, price: Double) -> Double {
        max(minimum, fixed + quantity * price * rate)
    }
}

/// How many units an entry buys. Quantities are whole units.
public enum Sizing: Sendable, Equatable {
    /// A fraction of equity in (0, 1]; 1 means all of it (1 − 2^-52, as backtesting.py's default).
    case fraction(Double)
    /// A fixed number of whole units.
    case quantity(Double)
    /// Whole units worth at most this much at the fill price (before fees).
    case notional(Double)
}

/// Where an order placed at bar t's close fills.
public enum FillTiming: String, Sendable, Equatable, Codable, CaseIterable {
    /// At bar t+1's open (the default).
    case open
    /// At bar t's close (recorded at bar t).
    case close
}

public struct SimulationSettings: Sendable, Equatable {
    public var cash: Double = 10_000
    public var commission = Commission()
    /// Entries fill this many basis points above the price, market and stop exits below it.
    public var slippageBasisPoints: Double = 0
    public var sizing: Sizing = .fraction(1)
    public var fill: FillTiming = .open
    /// Exit when the price falls this fraction below the entry price (e.g. 0.02).
    public var stopLoss: Double?
    /// Exit when the price rises this fraction above the entry price.
    public var takeProfit: Double?

    public init() {}
}

public enum ExitReason: String, Sendable, Codable {
    case signal, stopLoss = "stop-loss", takeProfit = "take-profit"
}

/// One executed order of a simulation.
public struct SimulatedFill: Sendable, Equatable {
    public var bar: Int
    public var side: Side
    public var price: Double
    public var quantity: Double
    public var fee: Double
    public var reason: ExitReason
}

public struct Simulation: Sendable, Equatable {
    public var fills: [SimulatedFill]
    /// Cash plus the open position at each bar's close.
    public var equity: [Double]
    /// The first bar at which the strategy's decisions count (warm-up + 1).
    public var firstDecisionBar: Int
    /// Units still held after the last bar (not closed: they appear in no trade).
    public var openQuantity: Double
}

/// The simulation core: one pass over contiguous columns, no allocation per bar, the strategy's
/// `next` inlined (generic specialisation). Orders decided at bar t are processed at the start of
/// bar t+1, then stop-loss / take-profit are checked against bar t+1's range, then the position
/// is marked to market at the close, then the strategy sees the bar.
enum Simulator {
    static func run<S: BacktestStrategy>(_ strategy: inout S, bars: BarSeries, settings: SimulationSettings) -> Simulation {
        let count = bars.count
        let firstDecision = strategy.warmup + 1
        var fills: [SimulatedFill] = []
        var cash = settings.cash
        var quantity = 0.0
        var entryPrice = 0.0
        var stopPrice = -Double.infinity
        var takePrice = Double.infinity
        var pending = Signal.hold
        let commission = settings.commission
        let up = 1 + settings.slippageBasisPoints / 10_000
        let down = 1 - settings.slippageBasisPoints / 10_000
        let fillAtClose = settings.fill == .close
        let equity = [Double](unsafeUninitializedCapacity: count) { equity, initialized in
            bars.open.withUnsafeBufferPointer { open in
            bars.high.withUnsafeBufferPointer { high in
            bars.low.withUnsafeBufferPointer { low in
            bars.close.withUnsafeBufferPointer { close in
            bars.volume.withUnsafeBufferPointer { volume in
            bars.closeUnits.withUnsafeBufferPointer { closeUnits in
            bars.times.withUnsafeBufferPointer { times in
                guard count > 0, let o = open.baseAddress, let h = high.baseAddress, let l = low.baseAddress,
                      let c = close.baseAddress, let v = volume.baseAddress, let u = closeUnits.baseAddress,
                      let t = times.baseAddress, let e = equity.baseAddress else { return }

                @inline(__always) func exit(at price: Double, bar: Int, reason: ExitReason) {
                    let fee = commission.fee(quantity: quantity, price: price)
                    cash += quantity * (price - entryPrice) - fee
                    fills.append(SimulatedFill(bar: bar, side: .sell, price: price, quantity: quantity, fee: fee, reason: reason))
                    quantity = 0
                    entryPrice = 0
                    stopPrice = -.infinity
                    takePrice = .infinity
                }

                for index in 0..<count {
                    if pending != .hold {
                        let price = fillAtClose ? c[index - 1] : o[index]
                        let bar = fillAtClose ? index - 1 : index
                        if pending == .enter {
                            let entry = price * up
                            if let units = Self.units(settings.sizing, cash: cash, price: price, entry: entry, commission: commission) {
                                quantity = units
                                entryPrice = entry
                                let fee = commission.fee(quantity: units, price: entry)
                                cash -= fee
                                fills.append(SimulatedFill(bar: bar, side: .buy, price: entry, quantity: units, fee: fee, reason: .signal))
                                if let stopLoss = settings.stopLoss { stopPrice = entry * (1 - stopLoss) }
                                if let takeProfit = settings.takeProfit { takePrice = entry * (1 + takeProfit) }
                            }
                        } else {
                            exit(at: price * down, bar: bar, reason: .signal)
                        }
                        pending = .hold
                    }
                    // Inside this bar: a gap through the level fills at the open; both touched, the stop first.
                    if quantity > 0 {
                        if l[index] <= stopPrice {
                            exit(at: min(o[index], stopPrice) * down, bar: index, reason: .stopLoss)
                        } else if h[index] >= takePrice {
                            exit(at: max(o[index], takePrice), bar: index, reason: .takeProfit)
                        }
                    }
                    e[index] = cash + (c[index] * quantity - quantity * entryPrice)

                    let signal = strategy.next(BarHistory(index: index, open: o, high: h, low: l, close: c, volume: v, closeUnits: u, times: t))
                    if index >= firstDecision {
                        if signal == .enter && quantity == 0 { pending = .enter }
                        else if signal == .exit && quantity > 0 { pending = .exit }
                    }
                }
            }}}}}}}
            initialized = count
        }
        return Simulation(fills: fills, equity: equity, firstDecisionBar: firstDecision, openQuantity: quantity)
    }

    /// Whole units for an entry, as backtesting.py sizes them: the commission of the sizing
    /// quantity is spread over its units, and an order that cash cannot cover is not placed.
    @inline(__always)
    static func units(_ sizing: Sizing, cash: Double, price: Double, entry: Double, commission: Commission) -> Double? {
        let available = max(0, cash)
        let units: Double
        let perUnit: Double
        switch sizing {
        case .fraction(let requested):
            let fraction = requested >= 1 ? 1 - Double.ulpOfOne : requested
            perUnit = entry + commission.fee(quantity: fraction, price: price) / fraction
            units = floorDivision(available * fraction, perUnit)
        case .quantity(let fixed):
            units = fixed
            perUnit = entry + commission.fee(quantity: fixed, price: price) / fixed
        case .notional(let value):
            units = floorDivision(value, entry)
            perUnit = entry + commission.fee(quantity: max(units, 1), price: price) / max(units, 1)
        }
        guard units >= 1, units * perUnit <= available else { return nil }
        return units
    }

    /// Python's float `//` (CPython's float_floor_div), so sizes agree with backtesting.py's to
    /// the unit even where a/b rounds up to a whole number.
    @inline(__always)
    static func floorDivision(_ a: Double, _ b: Double) -> Double {
        var remainder = fmod(a, b)
        var quotient = (a - remainder) / b
        if remainder != 0 {
            if (b < 0) != (remainder < 0) {
                remainder += b
                quotient -= 1
            }
        }
        guard quotient != 0 else { return 0 }
        var floored = quotient.rounded(.down)
        if quotient - floored > 0.5 { floored += 1 }
        return floored
    }
}
