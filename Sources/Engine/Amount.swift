/// An exact decimal with 8 fractional digits (a satoshi), stored as an integer so that ledger
/// arithmetic is exact, deterministic and fast. PostgreSQL `numeric` round-trips through text.
public struct Amount: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let scale: Int64 = 100_000_000
    public static let zero = Amount(units: 0)

    /// The value times 10^8.
    public var units: Int64

    public init(units: Int64) {
        self.units = units
    }

    public init(_ whole: Int) {
        units = Int64(whole) * Self.scale
    }

    /// Parses "123", "-0.5", "1.23456789"; nil for anything else or more than 8 decimals.
    public init?(_ text: String) {
        var digits = Substring(text)
        let negative = digits.hasPrefix("-")
        if negative || digits.hasPrefix("+") { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty || parts.count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= 8, !(parts[0].isEmpty && fraction.isEmpty),
              let whole = Int64(parts[0].isEmpty ? "0" : String(parts[0])),
              let fractionUnits = Int64(fraction.isEmpty ? "0" : fraction + String(repeating: "0", count: 8 - fraction.count)) else { return nil }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: Self.scale)
        guard !overflow else { return nil }
        units = (scaled + fractionUnits) * (negative ? -1 : 1)
    }

    public var description: String {
        let magnitude = units.magnitude
        let whole = magnitude / UInt64(Self.scale)
        var fraction = String(magnitude % UInt64(Self.scale))
        fraction = String(repeating: "0", count: 8 - fraction.count) + fraction
        return (units < 0 ? "-" : "") + "\(whole).\(fraction)"
    }


    public static func + (lhs: Amount, rhs: Amount) -> Amount { Amount(units: lhs.units + rhs.units) }
    public static func - (lhs: Amount, rhs: Amount) -> Amount { Amount(units: lhs.units - rhs.units) }
    public static func += (lhs: inout Amount, rhs: Amount) { lhs.units += rhs.units }
    public static func -= (lhs: inout Amount, rhs: Amount) { lhs.units -= rhs.units }
    public static func < (lhs: Amount, rhs: Amount) -> Bool { lhs.units < rhs.units }

    /// price × quantity, rounded half away from zero to 8 decimals.
    public static func * (lhs: Amount, rhs: Amount) -> Amount {
        Amount(units: roundedDivision(Int128(lhs.units) * Int128(rhs.units), by: Int128(scale)))
    }

    /// self × part / whole: the share of a fee that a part of a lot carries.
    public func share(_ part: Amount, of whole: Amount) -> Amount {
        precondition(whole.units != 0, "share of a zero quantity")
        return Amount(units: Self.roundedDivision(Int128(units) * Int128(part.units), by: Int128(whole.units)))
    }

    private static func roundedDivision(_ numerator: Int128, by denominator: Int128) -> Int64 {
        let quotient = numerator / denominator
        let remainder = numerator % denominator
        let roundsAway = remainder.magnitude * 2 >= denominator.magnitude
        let sign: Int128 = (numerator < 0) != (denominator < 0) ? -1 : 1
        return Int64(roundsAway ? quotient + sign : quotient)
    }
}
