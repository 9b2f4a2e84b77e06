import Foundation

/// Reproducible test bars: a random walk with a daily trend, during US market hours (9:30–16:00
/// America/New_York, weekdays; holidays are not modelled). Same arguments and seed, same bars,
/// byte for byte. Prices are whole cents.
public struct BarGenerator: Sendable {
    public var symbols: [String]
    /// The first calendar day (UTC date, YYYY-MM-DD).
    public var startDay: String
    /// Calendar days covered, weekends included (they just have no bars).
    public var days: Int
    public var timeframe: String
    public var seed: UInt64

    public init(symbols: [String], startDay: String = "2025-09-10", days: Int = 60, timeframe: String = "5m", seed: UInt64 = 1) {
        self.symbols = symbols
        self.startDay = startDay
        self.days = days
        self.timeframe = timeframe
        self.seed = seed
    }

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Minutes per bar for the intraday timeframes this generator supports.
    static func minutes(_ timeframe: String) -> Int? {
        ["1m": 1, "5m": 5, "15m": 15, "30m": 30, "1h": 60][timeframe]
    }

    /// The series of each symbol, in the order given.
    public func generate() throws(Failure) -> [BarSeries] {
        guard let step = Self.minutes(timeframe) else { throw Failure(description: "--timeframe \(timeframe): expected one of 1m, 5m, 15m, 30m, 1h") }
        guard (1...3660).contains(days) else { throw Failure(description: "--days \(days): expected 1...3660") }
        guard !symbols.isEmpty else { throw Failure(description: "--symbols: give at least one symbol, e.g. SPY,TSLA,AAPL") }
        for symbol in symbols where symbol.wholeMatch(of: /[A-Z0-9]{1,10}(-[A-Z0-9]{1,10})?/) == nil {
            throw Failure(description: "--symbols: '\(symbol)' is not an uppercase symbol such as AAPL or BTC-USD")
        }
        guard let firstDay = Self.day(startDay), let newYork = TimeZone(identifier: "America/New_York") else {
            throw Failure(description: "--start \(startDay): expected a date YYYY-MM-DD")
        }
        let barsPerDay = (390 + step - 1) / step
        return symbols.enumerated().map { number, symbol in
            var random = SplitMix64(seed: seed &+ UInt64(number) &* 0x9E37_79B9_7F4A_7C15)
            var series = BarSeries(symbol: symbol, timeframe: timeframe)
            series.reserveCapacity(days * barsPerDay)
            var price = Double(Self.startingCents(symbol))
            let volatility = 0.0015 * (Double(step) / 5).squareRoot()
            for offset in 0..<Int64(days) {
                let midnight = (firstDay + offset) * 86_400
                let weekday = ((firstDay + offset) % 7 + 7 + 3) % 7 // 0 = Monday
                guard weekday < 5 else { continue }
                // 9:30 New York time on that date, whatever the offset (EST or EDT) is then.
                let utcOffset = Int64(newYork.secondsFromGMT(for: Date(timeIntervalSince1970: Double(midnight + 12 * 3600))))
                let opening = midnight + 9 * 3600 + 30 * 60 - utcOffset
                let trend = random.normal() * 0.003 / Double(barsPerDay)
                price *= 1 + random.normal() * 0.004
                for bar in 0..<barsPerDay {
                    let open = max(1, price.rounded())
                    let close = max(1, (open * (1 + trend + volatility * random.normal())).rounded())
                    let high = (max(open, close) * (1 + abs(random.normal()) * volatility / 2)).rounded(.up)
                    let low = max(1, (min(open, close) * (1 - abs(random.normal()) * volatility / 2)).rounded(.down))
                    let volume = 1000 + (abs(random.normal()) * 50_000).rounded()
                    series.append(time: opening + Int64(bar * step * 60), openUnits: Int64(open) * 1_000_000,
                                  highUnits: Int64(high) * 1_000_000, lowUnits: Int64(low) * 1_000_000,
                                  closeUnits: Int64(close) * 1_000_000, volume: volume)
                    price = close
                }
            }
            return series
        }
    }

    /// CSV in the ingest format (`MarketBarStore.header`), all symbols.
    public static func csv(_ series: [BarSeries]) -> [UInt8] {
        var out = Array((MarketBarStore.header + "\n").utf8)
        for bars in series {
            for index in 0..<bars.count {
                out.append(contentsOf: "\(bars.symbol),\(bars.timeframe),\(isoTime(bars.times[index])),\(cents(bars.open[index])),\(cents(bars.high[index])),\(cents(bars.low[index])),\(cents(bars.close[index])),\(Int64(bars.volume[index]))\n".utf8)
            }
        }
        return out
    }

    static func cents(_ price: Double) -> String {
        let cents = Int64((price * 100).rounded())
        let fraction = String(cents % 100)
        return "\(cents / 100)." + (fraction.count == 1 ? "0" : "") + fraction
    }

    /// Days since 1970-01-01 of a YYYY-MM-DD date (proleptic Gregorian).
    static func day(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), let y = number(0..<4),
              let m = number(5..<7), let d = number(8..<10), (1...12).contains(m), (1...31).contains(d) else { return nil }
        // Howard Hinnant's days_from_civil.
        let year = m <= 2 ? y - 1 : y
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        guard isoTime(days * 86_400).hasPrefix(text) else { return nil } // rejects 2025-02-30
        return days
    }

    static func startingCents(_ symbol: String) -> Int {
        switch symbol {
        case "SPY": return 45_000
        case "TSLA": return 25_000
        case "AAPL": return 18_000
        default: return 10_000 + Int(symbol.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) % 20_000 })
        }
    }
}

/// `2025-09-10T13:30:00Z`.
func isoTime(_ seconds: Int64) -> String {
    String(Date(timeIntervalSince1970: Double(seconds)).postgresText.prefix(19)).replacing(" ", with: "T") + "Z"
}

/// A small, fast, well-mixed generator with a fixed algorithm (SplitMix64), so seeds reproduce
/// on every platform and Swift version.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) / 9_007_199_254_740_992 }

    /// Standard normal (Box–Muller).
    mutating func normal() -> Double {
        (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform())
    }
}
