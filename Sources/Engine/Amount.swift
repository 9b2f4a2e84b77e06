/// An exact decimal with 8 fractional digits (a satoshi), stored as an integer so that ledger
/// arithmetic is exact, deterministic and fast. PostgreSQL `numeric` round-trips through text.
///
/// The range is that of a `numeric(38, 8)` column: up to 30 digits before the point. That covers
/// every product and sum the ledger computes from `numeric(20, 8)` prices, sizes and fees
/// (a price times a size stays below 10^24). Arithmetic is checked: a result outside the range
/// throws `AmountOverflow` instead of trapping.
public struct Amount: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let decimals = 8
    static let scale: UInt128 = 100_000_000
    /// Units (value × 10^8) are always below this in magnitude: |value| < 10^30.
    static let unitLimit: UInt128 = 100_000_000_000_000_000_000_000_000_000_000_000_000
    public static let zero = Amount(units: 0)
    /// The largest value a `numeric(20, 8)` ledger column holds: 999999999999.99999999.
    public static let columnMaximum = Amount(units: 99_999_999_999_999_999_999)

    /// The value times 10^8; |units| < 10^38.
    public let units: Int128

    public init(units: Int128) {
        precondition(units.magnitude < Self.unitLimit, "Amount units out of range")
        self.units = units
    }

    public init(_ whole: Int) {
        self.init(units: Int128(whole) * Int128(Self.scale))
    }

    /// Parses "123", "-0.5", "1.23456789", "1e-08", "2.5E3"; nil for anything else, for more than
    /// 8 decimals, or for more than 30 digits before the point.
    public init?(_ text: String) {
        guard case .success(let amount) = Self.parse(text) else { return nil }
        self = amount
    }

    public enum ParseFailure: Error, Equatable {
        case notADecimal, tooManyDecimals, outOfRange
    }

    /// Like `init?(_:)`, saying why a text is refused. Plain ASCII digits only; the exponent form
    /// is what JSON writers (and spreadsheets) produce for small and large numbers.
    public static func parse(_ text: String) -> Result<Amount, ParseFailure> {
        parse(Array(text.utf8)[...])
    }

    /// The same for bytes, without copying them (a bar file has millions of values).
    static func parse(_ text: ArraySlice<UInt8>) -> Result<Amount, ParseFailure> {
        var bytes = text
        let negative = bytes.first == UInt8(ascii: "-")
        if negative || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

        let whole = bytes.prefix(while: isDigit)
        bytes = bytes.dropFirst(whole.count)
        var fraction: ArraySlice<UInt8> = []
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            fraction = bytes.prefix(while: isDigit)
            bytes = bytes.dropFirst(fraction.count)
        }
        guard whole.count + fraction.count > 0 else { return .failure(.notADecimal) }
        // The exponent is clamped: anything beyond ±1000 is out of range (or too fine) anyway.
        var exponent = 0
        if let marker = bytes.first, marker == UInt8(ascii: "e") || marker == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            let exponentNegative = bytes.first == UInt8(ascii: "-")
            if exponentNegative || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
            let digits = bytes.prefix(while: isDigit)
            guard !digits.isEmpty else { return .failure(.notADecimal) }
            bytes = bytes.dropFirst(digits.count)
            for digit in digits { exponent = min(exponent * 10 + Int(digit - UInt8(ascii: "0")), 1000) }
            if exponentNegative { exponent = -exponent }
        }
        guard bytes.isEmpty else { return .failure(.notADecimal) }

        // value = digits × 10^(exponent − fraction digits), where digits are the whole part's then
        // the fraction's; only those from the first to the last non-zero one count.
        let count = whole.count + fraction.count
        func digit(_ index: Int) -> UInt8 {
            (index < whole.count ? whole[whole.startIndex + index] : fraction[fraction.startIndex + index - whole.count]) - UInt8(ascii: "0")
        }
        guard let first = (0..<count).first(where: { digit($0) != 0 }) else { return .success(.zero) }
        let last = (first..<count).last { digit($0) != 0 } ?? first
        let shift = exponent - fraction.count + (count - 1 - last) + decimals
        guard shift >= 0 else { return .failure(.tooManyDecimals) }
        guard last - first + 1 + shift <= 38 else { return .failure(.outOfRange) }
        var magnitude: UInt128 = 0
        for index in first...last { magnitude = magnitude * 10 + UInt128(digit(index)) }
        for _ in 0..<shift { magnitude *= 10 }
        return .success(Amount(units: negative ? -Int128(magnitude) : Int128(magnitude)))
    }

    public var description: String {
        let magnitude = units.magnitude
        let fraction = String(magnitude % Self.scale)
        return (units < 0 ? "-" : "") + "\(magnitude / Self.scale)." + String(repeating: "0", count: Self.decimals - fraction.count) + fraction
    }

    /// Whether a `numeric(20, 8)` column (prices, sizes, fees, scores) can hold this value.
    public var fitsLedgerColumn: Bool { units.magnitude <= Self.columnMaximum.units.magnitude }

    public static func < (lhs: Amount, rhs: Amount) -> Bool { lhs.units < rhs.units }

    public static func + (lhs: Amount, rhs: Amount) throws(AmountOverflow) -> Amount {
        try checked(lhs.units.addingReportingOverflow(rhs.units), "\(lhs) + \(rhs)")
    }

    public static func - (lhs: Amount, rhs: Amount) throws(AmountOverflow) -> Amount {
        try checked(lhs.units.subtractingReportingOverflow(rhs.units), "\(lhs) - \(rhs)")
    }

    public static func += (lhs: inout Amount, rhs: Amount) throws(AmountOverflow) { lhs = try lhs + rhs }
    public static func -= (lhs: inout Amount, rhs: Amount) throws(AmountOverflow) { lhs = try lhs - rhs }

    /// price × quantity, rounded half away from zero to 8 decimals.
    public static func * (lhs: Amount, rhs: Amount) throws(AmountOverflow) -> Amount {
        guard let magnitude = roundedQuotient(lhs.units.magnitude, rhs.units.magnitude, dividedBy: scale) else {
            throw AmountOverflow(operation: "\(lhs) × \(rhs)")
        }
        return Amount(units: (lhs.units < 0) != (rhs.units < 0) ? -Int128(magnitude) : Int128(magnitude))
    }

    /// self × part / whole, rounded half away from zero: the share of a fee that part of a lot
    /// carries. Rounding is monotone in `part`, so differences of cumulative shares are never negative.
    public func share(_ part: Amount, of whole: Amount) throws(AmountOverflow) -> Amount {
        guard whole.units != 0, let magnitude = Self.roundedQuotient(units.magnitude, part.units.magnitude, dividedBy: whole.units.magnitude) else {
            throw AmountOverflow(operation: "\(self) × \(part) / \(whole)")
        }
        let negative = (units < 0) != ((part.units < 0) != (whole.units < 0))
        return Amount(units: negative ? -Int128(magnitude) : Int128(magnitude))
    }

    /// The sum of `amounts`, or an error if it leaves the range.
    public static func sum(_ amounts: some Sequence<Amount>) throws(AmountOverflow) -> Amount {
        var total = Amount.zero
        for amount in amounts { try total += amount }
        return total
    }

    private static func checked(_ result: (partialValue: Int128, overflow: Bool), _ operation: @autoclosure () -> String) throws(AmountOverflow) -> Amount {
        guard !result.overflow, result.partialValue.magnitude < unitLimit else { throw AmountOverflow(operation: operation()) }
        return Amount(units: result.partialValue)
    }

    /// a × b / d rounded half up, in 256 bits where needed; nil if the result is out of range.
    private static func roundedQuotient(_ a: UInt128, _ b: UInt128, dividedBy d: UInt128) -> UInt128? {
        let (high, low) = a.multipliedFullWidth(by: b)
        guard high < d else { return nil }
        let (quotient, remainder) = high == 0 ? low.quotientAndRemainder(dividingBy: d) : d.dividingFullWidth((high, low))
        guard quotient < unitLimit else { return nil }
        let rounded = remainder >= d - remainder ? quotient + 1 : quotient
        return rounded < unitLimit ? rounded : nil
    }
}

/// A computed amount left the range of 30 digits before the point.
public struct AmountOverflow: Error, Equatable, CustomStringConvertible {
    public var operation: String
    public var description: String {
        "\(operation) is out of range: amounts have at most 30 digits before the point"
    }
}

extension Amount {
    /// Parses a value for a `numeric(20, 8)` ledger column (prices, sizes, fees, scores).
    public static func ledgerValue(_ text: String) throws(LedgerValueError) -> Amount {
        switch parse(text) {
        case .success(let amount) where amount.fitsLedgerColumn: return amount
        case .success: throw LedgerValueError(text: text, failure: .outOfRange)
        case .failure(let failure): throw LedgerValueError(text: text, failure: failure)
        }
    }
}

/// Why a text is not a value the ledger can store, in words.
public struct LedgerValueError: Error, Equatable, CustomStringConvertible {
    public var text: String
    public var failure: Amount.ParseFailure

    public var description: String {
        switch failure {
        case .notADecimal: return "\(shown(text)) is not a decimal number"
        case .tooManyDecimals: return "\(shown(text)) has more than 8 decimals"
        case .outOfRange: return "\(shown(text)) is beyond ±\(Amount.columnMaximum), the most the ledger stores"
        }
    }
}
