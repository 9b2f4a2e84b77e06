/// One symbol's bars of one timeframe, in time order, as contiguous columns: what a backtest reads.
/// Prices are kept twice: exactly (`closeUnits`, the close × 10^8, as PostgreSQL's numeric(20, 8)
/// stores it) for indicators that sum prices, and as the nearest Double for everything else.
public struct BarSeries: Sendable, Equatable {
    public let symbol: String
    public let timeframe: String
    /// Bar open times, seconds since 1970 (UTC), strictly increasing.
    public private(set) var times: [Int64] = []
    public private(set) var open: [Double] = []
    public private(set) var high: [Double] = []
    public private(set) var low: [Double] = []
    public private(set) var close: [Double] = []
    public private(set) var volume: [Double] = []
    public private(set) var closeUnits: [Int64] = []

    public init(symbol: String, timeframe: String) {
        self.symbol = symbol
        self.timeframe = timeframe
    }

    public var count: Int { times.count }
    public var isEmpty: Bool { times.isEmpty }

    public mutating func reserveCapacity(_ capacity: Int) {
        times.reserveCapacity(capacity)
        open.reserveCapacity(capacity)
        high.reserveCapacity(capacity)
        low.reserveCapacity(capacity)
        close.reserveCapacity(capacity)
        volume.reserveCapacity(capacity)
        closeUnits.reserveCapacity(capacity)
    }

    /// Appends a bar given in units of 10^-8 (exact). Prices become the Double nearest to the
    /// decimal value, the same value a decimal parser (Python's `float("1.23")`) gives.
    public mutating func append(time: Int64, openUnits: Int64, highUnits: Int64, lowUnits: Int64, closeUnits units: Int64, volume: Double) {
        times.append(time)
        open.append(Self.price(openUnits))
        high.append(Self.price(highUnits))
        low.append(Self.price(lowUnits))
        close.append(Self.price(units))
        self.volume.append(volume)
        closeUnits.append(units)
    }

    /// units / 10^8, correctly rounded (both operands are exact doubles below 2^53).
    static func price(_ units: Int64) -> Double { Double(units) / 1e8 }

    /// A copy with the bars in `range` only.
    public func slice(_ range: Range<Int>) -> BarSeries {
        var copy = BarSeries(symbol: symbol, timeframe: timeframe)
        copy.times = Array(times[range])
        copy.open = Array(open[range])
        copy.high = Array(high[range])
        copy.low = Array(low[range])
        copy.close = Array(close[range])
        copy.volume = Array(volume[range])
        copy.closeUnits = Array(closeUnits[range])
        return copy
    }

    /// What identifies the bars a run used; stored with the run.
    public var digest: BarDigest {
        BarDigest(symbol: symbol, timeframe: timeframe, first: times.first ?? 0, last: times.last ?? 0, count: count, hash: contentHash())
    }

    /// A 128-bit content hash (two independent multiply-xorshift lanes over every field of every
    /// bar: the time, the close in exact units, the other prices and the volume as their doubles,
    /// which the exact decimals determine). Not cryptographic: it tells whether the bars changed,
    /// quickly.
    func contentHash() -> String {
        var lanes: (UInt64, UInt64) = (0x9E37_79B9_7F4A_7C15, 0xC2B2_AE3D_27D4_EB4F)
        func mix(_ word: UInt64) {
            lanes.0 = (lanes.0 ^ word) &* 0xFF51_AFD7_ED55_8CCD
            lanes.0 ^= lanes.0 >> 33
            lanes.1 = (lanes.1 ^ (word &+ 0x1656_67B1_9E37_79F9)) &* 0xC4CE_B9FE_1A85_EC53
            lanes.1 ^= lanes.1 >> 29
        }
        for index in times.indices {
            mix(UInt64(bitPattern: times[index]))
            mix(open[index].bitPattern)
            mix(high[index].bitPattern)
            mix(low[index].bitPattern)
            mix(UInt64(bitPattern: closeUnits[index]))
            mix(volume[index].bitPattern)
        }
        mix(UInt64(count))
        return hex(lanes.0) + hex(lanes.1)
    }

    private func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// The identity of the bars a run used.
public struct BarDigest: Sendable, Equatable, Codable {
    public var symbol: String
    public var timeframe: String
    public var first: Int64
    public var last: Int64
    public var count: Int
    public var hash: String
}
