/// A built-in strategy with validated parameters, chosen by name on the command line.
public enum StrategySpec: Sendable, Equatable {
    case smaCross(fast: Int, slow: Int)
    case rsi(period: Int, low: Double, high: Double)

    public static let names = ["sma-cross", "rsi"]

    public var name: String {
        switch self {
        case .smaCross: return "sma-cross"
        case .rsi: return "rsi"
        }
    }

    /// Parameters in a fixed order with their canonical text (what is stored and shown).
    public var parameters: [(name: String, value: String)] {
        switch self {
        case let .smaCross(fast, slow): return [("fast", String(fast)), ("slow", String(slow))]
        case let .rsi(period, low, high): return [("period", String(period)), ("low", canonical(low)), ("high", canonical(high))]
        }
    }

    /// The parameters as a JSON object with keys in a fixed order (stored as is, so identical runs
    /// store identical bytes).
    public var parametersJSON: String {
        "{" + parameters.map { "\"\($0.name)\": \($0.value)" }.joined(separator: ", ") + "}"
    }

    /// Builds a strategy from its name and `k=v` parameters; defaults fill what is not given.
    public static func parse(name: String, parameters: [String]) throws(BacktestError) -> StrategySpec {
        var given: [String: String] = [:]
        for parameter in parameters {
            guard let equals = parameter.firstIndex(of: "="), equals != parameter.startIndex else {
                throw .invalidParameter(strategy: name, parameter: parameter, problem: "expected k=v, e.g. fast=10")
            }
            let key = String(parameter[..<equals])
            guard given[key] == nil else { throw .invalidParameter(strategy: name, parameter: key, problem: "given twice") }
            given[key] = String(parameter[parameter.index(after: equals)...])
        }
        func take(_ key: String) -> String? { given.removeValue(forKey: key) }
        func integer(_ key: String, default fallback: Int, in range: ClosedRange<Int>) throws(BacktestError) -> Int {
            guard let text = take(key) else { return fallback }
            guard let value = Int(text), range.contains(value) else {
                throw .invalidParameter(strategy: name, parameter: key, problem: "'\(text)' is not a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return value
        }
        func number(_ key: String, default fallback: Double, in range: ClosedRange<Double>) throws(BacktestError) -> Double {
            guard let text = take(key) else { return fallback }
            guard let value = Double(text), value.isFinite, range.contains(value) else {
                throw .invalidParameter(strategy: name, parameter: key, problem: "'\(text)' is not a number in \(canonical(range.lowerBound))...\(canonical(range.upperBound))")
            }
            return value
        }

        let spec: StrategySpec
        switch name {
        case "sma-cross":
            let fast = try integer("fast", default: 10, in: 1...100_000)
            let slow = try integer("slow", default: 50, in: 1...100_000)
            guard fast < slow else { throw .invalidParameter(strategy: name, parameter: "fast", problem: "must be less than slow (\(fast) ≥ \(slow))") }
            spec = .smaCross(fast: fast, slow: slow)
        case "rsi":
            let period = try integer("period", default: 14, in: 2...100_000)
            let low = try number("low", default: 30, in: 0...100)
            let high = try number("high", default: 70, in: 0...100)
            guard low < high else { throw .invalidParameter(strategy: name, parameter: "low", problem: "must be less than high (\(canonical(low)) ≥ \(canonical(high)))") }
            spec = .rsi(period: period, low: low, high: high)
        default:
            throw .unknownStrategy(name)
        }
        if let unknown = given.keys.sorted().first {
            throw .invalidParameter(strategy: name, parameter: unknown, problem: "unknown parameter; \(name) takes \(spec.parameters.map(\.name).joined(separator: ", "))")
        }
        return spec
    }

    /// Runs the simulation with this strategy: one specialised loop per strategy type.
    func simulate(_ bars: BarSeries, settings: SimulationSettings) -> Simulation {
        switch self {
        case let .smaCross(fast, slow):
            var strategy = SMACross(fast: fast, slow: slow)
            return Simulator.run(&strategy, bars: bars, settings: settings)
        case let .rsi(period, low, high):
            var strategy = RSIStrategy(period: period, low: low, high: high)
            return Simulator.run(&strategy, bars: bars, settings: settings)
        }
    }

    /// sma-cross keeps exact window sums of `slow` closes in 64-bit units of 10^-8; closes that
    /// could make a window's sum exceed that are refused, not silently wrapped into wrong averages.
    func checkSums(_ bars: BarSeries) throws(BacktestError) {
        guard case let .smaCross(_, slow) = self else { return }
        let largest = bars.closeUnits.lazy.map(\.magnitude).max() ?? 0
        guard largest <= UInt64(Int64.max) / UInt64(slow) else {
            throw .outOfRange("sma-cross slow=\(slow) sums that many closes exactly, and closes up to \(BarSeries.price(Int64(clamping: largest))) overflow those 64-bit sums; lower slow")
        }
    }

    var warmup: Int {
        switch self {
        case let .smaCross(fast, slow): return SMACross(fast: fast, slow: slow).warmup
        case let .rsi(period, low, high): return RSIStrategy(period: period, low: low, high: high).warmup
        }
    }
}

/// Shortest text that reads back as the same Double ("30", "0.5").
func canonical(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
}
