import Foundation

public enum Side: String, Sendable, Codable {
    case buy, sell
}

/// One executed trade, validated (seed 001's rules, adapted to the bot's crypto pairs).
public struct Fill: Sendable, Equatable {
    public var orderID: String
    public var symbol: String
    public var side: Side
    public var time: Date
    public var price: Amount
    public var size: Amount
    public var fees: Amount
    public var status: String
    public var executionMode: String

    public init(orderID: String, symbol: String, side: Side, time: Date, price: Amount, size: Amount,
                fees: Amount = .zero, status: String = "filled", executionMode: String = "PAPER") {
        self.orderID = orderID
        self.symbol = symbol
        self.side = side
        self.time = time
        self.price = price
        self.size = size
        self.fees = fees
        self.status = status
        self.executionMode = executionMode
    }

    /// Statuses that mean the order executed (seed 003's queries count these).
    public static let executedStatuses: Set<String> = ["filled", "done"]
    public var executed: Bool { Self.executedStatuses.contains(status) }
}

/// A record that failed validation: which record, which field, what was wrong.
public struct FillValidationError: Error, Equatable, CustomStringConvertible {
    public var record: Int
    public var field: String
    public var problem: String

    public var description: String { "record \(record): field '\(field)': \(problem)" }
}

/// A fill as it arrives (JSONL or CSV), every field still text.
public struct RawFill: Sendable, Equatable {
    public var fields: [String: String]

    public init(_ fields: [String: String]) {
        self.fields = fields
    }

    public static let fieldNames = ["order_id", "symbol", "side", "order_time", "price", "size", "fees", "status", "execution_mode"]
    static let maximumSize = Amount(10_000)

    /// Applies the rules; `record` numbers the record in messages (1-based).
    public func validated(record: Int) throws -> Fill {
        func fail(_ field: String, _ problem: String) -> FillValidationError {
            FillValidationError(record: record, field: field, problem: problem)
        }
        func required(_ field: String) throws -> String {
            guard let value = fields[field]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { throw fail(field, "missing") }
            return value
        }
        func amount(_ field: String, default fallback: Amount? = nil) throws -> Amount {
            if fallback != nil, (fields[field] ?? "").trimmingCharacters(in: .whitespaces).isEmpty { return fallback! }
            let text = try required(field)
            guard let value = Amount(text) else { throw fail(field, "'\(text)' is not a decimal number with at most 8 decimals") }
            return value
        }
        let unknown = Set(fields.keys).subtracting(Self.fieldNames)
        if let extra = unknown.sorted().first { throw fail(extra, "unknown field; expected: \(Self.fieldNames.joined(separator: ", "))") }

        let orderID = try required("order_id")
        guard orderID.count <= 128 else { throw fail("order_id", "longer than 128 characters") }
        let symbol = try required("symbol")
        guard symbol.wholeMatch(of: /[A-Z0-9]{1,10}(-[A-Z0-9]{1,10})?/) != nil else {
            throw fail("symbol", "'\(symbol)' is not an uppercase symbol such as AAPL or BTC-USD")
        }
        let sideText = try required("side")
        guard let side = Side(rawValue: sideText.lowercased()) else { throw fail("side", "'\(sideText)' is not buy or sell") }
        let timeText = try required("order_time")
        guard let time = parseISO8601(timeText) else {
            throw fail("order_time", "'\(timeText)' is not an ISO-8601 time with a zone, such as 2026-01-05T14:30:00Z")
        }
        let price = try amount("price")
        guard price > .zero else { throw fail("price", "must be greater than 0") }
        let size = try amount("size")
        guard size > .zero, size <= Self.maximumSize else { throw fail("size", "must be greater than 0 and at most 10000") }
        let fees = try amount("fees", default: .zero)
        guard fees >= .zero else { throw fail("fees", "must not be negative") }
        let status = fields["status"].flatMap { $0.isEmpty ? nil : $0.lowercased() } ?? "filled"
        guard ["filled", "done", "open", "cancelled", "rejected"].contains(status) else {
            throw fail("status", "'\(status)' is not one of filled, done, open, cancelled, rejected")
        }
        let mode = fields["execution_mode"].flatMap { $0.isEmpty ? nil : $0.uppercased() } ?? "PAPER"
        guard mode == "PAPER" || mode == "LIVE" else { throw fail("execution_mode", "'\(mode)' is not PAPER or LIVE") }
        return Fill(orderID: orderID, symbol: symbol, side: side, time: time, price: price, size: size, fees: fees,
                    status: status, executionMode: mode)
    }
}

/// ISO-8601 with a zone (Z or ±hh:mm), optional fractional seconds.
func parseISO8601(_ text: String) -> Date? {
    guard let match = text.wholeMatch(of: /(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})/) else { return nil }
    var parts = tm()
    parts.tm_year = Int32(match.1)! - 1900
    parts.tm_mon = Int32(match.2)! - 1
    parts.tm_mday = Int32(match.3)!
    parts.tm_hour = Int32(match.4)!
    parts.tm_min = Int32(match.5)!
    parts.tm_sec = Int32(match.6)!
    guard (0...11).contains(parts.tm_mon), (1...31).contains(parts.tm_mday), parts.tm_hour < 24, parts.tm_min < 60, parts.tm_sec < 61 else { return nil }
    var seconds = Double(timegm(&parts))
    if let fraction = match.7 { seconds += Double("0" + fraction)! }
    let zone = String(match.8)
    if zone != "Z" {
        let digits = zone.dropFirst().filter(\.isNumber)
        let offset = Double(Int(digits.prefix(2))! * 3600 + Int(digits.suffix(2))! * 60)
        seconds -= zone.hasPrefix("+") ? offset : -offset
    }
    return Date(timeIntervalSince1970: seconds)
}
