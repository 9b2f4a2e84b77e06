import Foundation

/// What can go wrong before a backtest runs; nothing is stored then.
public enum BacktestError: Error, Equatable, CustomStringConvertible {
    case unknownStrategy(String)
    case invalidParameter(strategy: String, parameter: String, problem: String)
    case invalidSetting(String, problem: String)
    case startAfterEnd(start: String, end: String)
    case noBars(symbol: String, timeframe: String)
    case emptyRange(symbol: String, timeframe: String, start: String, end: String, available: String)
    case notEnoughBars(found: Int, needed: Int, strategy: String)
    case runNotFound(Int64)
    case outOfRange(String)

    public var description: String {
        switch self {
        case .unknownStrategy(let name):
            return "unknown strategy '\(name)'; built in: \(StrategySpec.names.joined(separator: ", "))"
        case let .invalidParameter(strategy, parameter, problem):
            return "\(strategy): parameter '\(parameter)': \(problem)"
        case let .invalidSetting(setting, problem):
            return "\(setting): \(problem)"
        case let .startAfterEnd(start, end):
            return "--start \(start) is after --end \(end); give a start before the end"
        case let .noBars(symbol, timeframe):
            return "no \(timeframe) bars for \(symbol) in market_bars; load some with `bot-engine ingest-bars` or `bot-engine bars generate`"
        case let .emptyRange(symbol, timeframe, start, end, available):
            return "no \(timeframe) bars for \(symbol) between \(start) and \(end); the stored bars cover \(available)"
        case let .notEnoughBars(found, needed, strategy):
            return "\(found) bars in the range, but \(strategy) needs at least \(needed) (warm-up plus two); widen --start/--end"
        case .runNotFound(let id):
            return "no backtest run \(id); `bot-engine backtest list` shows the stored runs"
        case .outOfRange(let problem):
            return "\(problem); use smaller --cash or prices"
        }
    }
}

/// One closed round trip of a run, from the FIFO allocator (the ledger's own rules).
public struct BacktestTrade: Sendable, Equatable {
    public var entryBar: Int
    public var exitBar: Int
    public var entryTime: Int64
    public var exitTime: Int64
    public var quantity: Amount
    public var entryPrice: Amount
    public var exitPrice: Amount
    /// The entry and exit fees this trade carries.
    public var fees: Amount
    public var pnl: Amount
    /// pnl / (quantity × entry price).
    public var returnFraction: Double
    public var exitReason: ExitReason
}

/// A backtest: which strategy on which bars, with which settings and conventions.
public struct BacktestRequest: Sendable, Equatable {
    public var strategy: StrategySpec
    public var settings: SimulationSettings
    /// nil: 252, or 365 for crypto symbols and weekend data.
    public var periodsPerYear: Int?
    public var riskFreeRate: Double

    public init(strategy: StrategySpec, settings: SimulationSettings = SimulationSettings(), periodsPerYear: Int? = nil, riskFreeRate: Double = 0) {
        self.strategy = strategy
        self.settings = settings
        self.periodsPerYear = periodsPerYear
        self.riskFreeRate = riskFreeRate
    }

    /// Rejects settings the simulation cannot honour, naming the flag.
    public func validate() throws(BacktestError) {
        let s = settings
        guard s.cash.isFinite, s.cash > 0 else { throw .invalidSetting("--cash", problem: "must be a number greater than 0") }
        guard s.commission.rate.isFinite, (0..<0.1).contains(s.commission.rate) else { throw .invalidSetting("--commission", problem: "must be a rate in 0..<0.1 (0.001 = 0.1 %)") }
        guard s.commission.fixed.isFinite, s.commission.fixed >= 0 else { throw .invalidSetting("--commission-fixed", problem: "must be 0 or more") }
        guard s.commission.minimum.isFinite, s.commission.minimum >= 0 else { throw .invalidSetting("--commission-min", problem: "must be 0 or more") }
        guard s.slippageBasisPoints.isFinite, (0..<1000).contains(s.slippageBasisPoints) else { throw .invalidSetting("--slippage-bps", problem: "must be in 0..<1000") }
        switch s.sizing {
        case .fraction(let value) where !(value > 0 && value <= 1):
            throw .invalidSetting("--size-fraction", problem: "must be in (0, 1]")
        case .quantity(let value) where !(value >= 1 && value <= 1e12 && value == value.rounded()):
            throw .invalidSetting("--size-quantity", problem: "must be a whole number of units, at least 1")
        case .notional(let value) where !(value > 0 && value.isFinite):
            throw .invalidSetting("--size-notional", problem: "must be greater than 0")
        default: break
        }
        if let stop = s.stopLoss, !(stop > 0 && stop < 1) { throw .invalidSetting("--stop-loss", problem: "must be a fraction in (0, 1), e.g. 0.02") }
        if let take = s.takeProfit, !(take > 0 && take.isFinite) { throw .invalidSetting("--take-profit", problem: "must be a fraction greater than 0, e.g. 0.05") }
        if let periods = periodsPerYear, !(1...100_000).contains(periods) { throw .invalidSetting("--periods-per-year", problem: "must be in 1...100000") }
        guard riskFreeRate.isFinite, riskFreeRate > -1, riskFreeRate < 1 else { throw .invalidSetting("--risk-free", problem: "must be an annual rate in (-1, 1), e.g. 0.04") }
    }
}

public struct BacktestResult: Sendable, Equatable {
    public var request: BacktestRequest
    public var digest: BarDigest
    public var conventions: MetricConventions
    public var simulation: Simulation
    public var trades: [BacktestTrade]
    public var metrics: BacktestMetrics
    /// Bar times, for the stored equity curve.
    public var times: [Int64]
}

public enum Backtest {
    /// Changes whenever a change to the engine can change a run's results.
    public static let engineVersion = "backtest-1"

    /// Simulates, allocates the fills FIFO and computes the metrics. Pure: same bars and request,
    /// same result.
    public static func run(_ request: BacktestRequest, on bars: BarSeries) throws(BacktestError) -> BacktestResult {
        try request.validate()
        let needed = request.strategy.warmup + 2
        guard bars.count >= needed else {
            throw .notEnoughBars(found: bars.count, needed: needed, strategy: request.strategy.name)
        }
        try request.strategy.checkSums(bars)
        let simulation = request.strategy.simulate(bars, settings: request.settings)
        let trades = try roundTrips(simulation.fills, bars: bars)
        let conventions = MetricConventions(
            periodsPerYear: request.periodsPerYear ?? MetricConventions.periodsPerYear(symbol: bars.symbol, times: bars.times),
            riskFreeRate: request.riskFreeRate)
        let outcomes = trades.map {
            TradeOutcome(entryBar: $0.entryBar, exitBar: $0.exitBar, entryTime: $0.entryTime, exitTime: $0.exitTime,
                         pnl: nearestDouble($0.pnl), returnFraction: $0.returnFraction, fees: nearestDouble($0.fees))
        }
        let metrics = BacktestMetrics.compute(equity: simulation.equity, times: bars.times, closes: bars.close,
                                              firstTradingBar: request.strategy.warmup, trades: outcomes, conventions: conventions)
        return BacktestResult(request: request, digest: bars.digest, conventions: conventions, simulation: simulation,
                              trades: trades, metrics: metrics, times: bars.times)
    }

    /// Simulates a built-in strategy: its own specialised loop, no dynamic dispatch per bar.
    public static func simulate(_ strategy: StrategySpec, bars: BarSeries, settings: SimulationSettings) -> Simulation {
        strategy.simulate(bars, settings: settings)
    }

    /// Simulates any strategy. Called from another module this is not specialised; the built-in
    /// strategies are (see above).
    public static func simulate<S: BacktestStrategy>(_ strategy: inout S, bars: BarSeries, settings: SimulationSettings) -> Simulation {
        Simulator.run(&strategy, bars: bars, settings: settings)
    }

    /// The simulation's fills through the ledger's FIFO allocator: one trade per allocation.
    static func roundTrips(_ simulated: [SimulatedFill], bars: BarSeries) throws(BacktestError) -> [BacktestTrade] {
        // Order ids sort like the fills (zero-padded), so a stop hit on the entry bar still
        // allocates after its buy.
        var fills: [Fill] = []
        fills.reserveCapacity(simulated.count)
        for (index, fill) in simulated.enumerated() {
            let price = try amount(fill.price), size = try amount(fill.quantity)
            // The trade rows keep price and quantity in the ledger's numeric(20, 8) columns.
            guard price.fitsLedgerColumn, size.fitsLedgerColumn else {
                throw .outOfRange("a simulated fill of \(size) units at \(price) is beyond ±\(Amount.columnMaximum), the most the ledger stores")
            }
            fills.append(Fill(orderID: orderID(index), symbol: bars.symbol, side: fill.side,
                              time: Date(timeIntervalSince1970: Double(bars.times[fill.bar])),
                              price: price, size: size, fees: try amount(fill.fee)))
        }
        let byID = Dictionary(uniqueKeysWithValues: fills.indices.map { (fills[$0].orderID, $0) })
        let allocations: [Allocation]
        do {
            allocations = try FIFOAllocator.allocate(fills).allocations
        } catch {
            throw .outOfRange(error.description)
        }
        var trades: [BacktestTrade] = []
        trades.reserveCapacity(allocations.count)
        for allocation in allocations {
            guard let buy = byID[allocation.buyOrderID], let sell = byID[allocation.sellOrderID] else { continue }
            let entryPrice = fills[buy].price
            let fees: Amount
            do { fees = try allocation.buyFee + allocation.sellFee } catch { throw .outOfRange(error.description) }
            trades.append(BacktestTrade(
                entryBar: simulated[buy].bar, exitBar: simulated[sell].bar,
                entryTime: bars.times[simulated[buy].bar], exitTime: bars.times[simulated[sell].bar],
                quantity: allocation.quantity, entryPrice: entryPrice, exitPrice: fills[sell].price, fees: fees, pnl: allocation.pnl,
                returnFraction: nearestDouble(allocation.pnl) / (nearestDouble(allocation.quantity) * nearestDouble(entryPrice)),
                exitReason: simulated[sell].reason))
        }
        return trades
    }

    static func orderID(_ index: Int) -> String {
        let digits = String(index)
        return String(repeating: "0", count: max(0, 10 - digits.count)) + digits
    }

    /// The nearest 8-decimal amount; a value no ledger column holds (e.g. the units that
    /// --cash 1e300 buys) is refused rather than trapped on.
    static func amount(_ value: Double) throws(BacktestError) -> Amount {
        let units = (value * 1e8).rounded()
        guard units.isFinite, abs(units) < 1e36 else {
            throw .outOfRange("a simulated amount of \(value) is beyond what the ledger holds")
        }
        return Amount(units: Int128(units))
    }
}

/// An amount as the nearest Double (via its exact decimal text).
func nearestDouble(_ amount: Amount) -> Double {
    Double(amount.description) ?? .nan
}
