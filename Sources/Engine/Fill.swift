import Foundation

public enum Side: String, Sendable, Codable {
    case buy, sell
}

/// One executed trade, validated (the ledger's fill rules, adapted to the bot's crypto pairs).
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

    /// Statuses that mean the order executed (the operator's linkage queries count these).
    public static let executedStatuses: Set<String> = ["filled", "done"]
    public var executed: Bool { Self.executedStatuses.contains(status) }

    /// Why `text` cannot be an order id, or nil if it can: at most 128 characters as PostgreSQL
    /// counts them (code points), no control character (a NUL cannot be stored at all; a tab or a
    /// line break would garble every listing of the ledger).
    public static func orderIDProblem(_ text: String) -> String? {
        if text.isEmpty { return "missing" }
        if text.unicodeScalars.count > 128 { return "longer than 128 characters" }
        if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) { return "contains a control character" }
        return nil
    }
}

/// A record that failed validation: which record, which field, what was wrong.
public struct FillValidationError: Error, Equatable, CustomStringConvertible {
    public var record: Int
    public var field: String
    public var problem: String

    public var description: String { "record \(record): field \(shown(field)): \(problem)" }
}

/// A fill as it arrives (JSONL or CSV), every field still text.
public struct RawFill: Sendable, Equatable {
    public var fields: [String: String]

    public init(_ fields: [String: String]) {
        self.fields = fields
    }

    public static let fieldNames = ["order_id", "symbol", "side", "order_time", "price", "size", "fees", "status", "execution_mode"]
    private static let knownFields = Set(fieldNames)
    static let maximumSize = Amount(10_000)

    /// Applies the rules; `record` numbers the record in messages (1-based).
    public func validated(record: Int) throws -> Fill {
        func fail(_ field: String, _ problem: String) -> FillValidationError {
            FillValidationError(record: record, field: field, problem: problem)
        }
        func required(_ field: String) throws -> String {
            guard let value = fields[field].map(trimmed), !value.isEmpty else { throw fail(field, "missing") }
            return value
        }
        func amount(_ field: String, default fallback: Amount? = nil) throws -> Amount {
            if let fallback, trimmed(fields[field] ?? "").isEmpty { return fallback }
            do {
                return try Amount.ledgerValue(try required(field))
            } catch let error as LedgerValueError {
                throw fail(field, error.description)
            }
        }
        if let extra = fields.keys.filter({ !Self.knownFields.contains($0) }).min() { throw fail(extra, "unknown field; expected: \(Self.fieldNames.joined(separator: ", "))") }

        let orderID = try required("order_id")
        if let problem = Fill.orderIDProblem(orderID) { throw fail("order_id", problem) }
        let symbol = try required("symbol")
        guard isSymbol(symbol.utf8) else {
            throw fail("symbol", "\(shown(symbol)) is not an uppercase symbol such as AAPL or BTC-USD")
        }
        let sideText = try required("side")
        guard let side = Side(rawValue: sideText.lowercased()) else { throw fail("side", "\(shown(sideText)) is not buy or sell") }
        let timeText = try required("order_time")
        let time: Date
        switch parseISO8601(Array(timeText.utf8)[...]) {
        case .success(let date): time = date
        case .failure(let problem): throw fail("order_time", "\(shown(timeText)) \(problem.description)")
        }
        let price = try amount("price")
        guard price > .zero else { throw fail("price", "must be greater than 0") }
        let size = try amount("size")
        guard size > .zero, size <= Self.maximumSize else { throw fail("size", "must be greater than 0 and at most 10000") }
        let fees = try amount("fees", default: .zero)
        guard fees >= .zero else { throw fail("fees", "must not be negative") }
        let status = fields["status"].flatMap { $0.isEmpty ? nil : $0.lowercased() } ?? "filled"
        guard ["filled", "done", "open", "cancelled", "rejected"].contains(status) else {
            throw fail("status", "\(shown(status)) is not one of filled, done, open, cancelled, rejected")
        }
        let mode = fields["execution_mode"].flatMap { $0.isEmpty ? nil : $0.uppercased() } ?? "PAPER"
        guard mode == "PAPER" || mode == "LIVE" else { throw fail("execution_mode", "\(shown(mode)) is not PAPER or LIVE") }
        return Fill(orderID: orderID, symbol: symbol, side: side, time: time, price: price, size: size, fees: fees,
                    status: status, executionMode: mode)
    }
}

/// Spaces and tabs around a value do not count.
private func trimmed(_ text: String) -> String {
    let isBlank: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" }
    guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last, isBlank(first) || isBlank(last) else { return text }
    let scalars = text.unicodeScalars.drop(while: isBlank)
    return String(String.UnicodeScalarView(scalars.reversed().drop(while: isBlank).reversed()))
}

/// `[A-Z0-9]{1,10}(-[A-Z0-9]{1,10})?`, checked byte by byte (this runs for every fill of a backfill
/// and every bar of a file).
func isSymbol(_ bytes: some Collection<UInt8>) -> Bool {
    var parts = 1, length = 0
    for byte in bytes {
        if byte == UInt8(ascii: "-") {
            guard length > 0, parts == 1 else { return false }
            parts += 1
            length = 0
        } else {
            guard (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return false }
            length += 1
            guard length <= 10 else { return false }
        }
    }
    return length > 0
}

enum TimeProblem: Error, CustomStringConvertible {
    case notISO8601, noSuchDate, noSuchTime, offsetOutOfRange

    var description: String {
        switch self {
        case .notISO8601: return "is not an ISO-8601 time with a zone, such as 2026-01-05T14:30:00Z"
        case .noSuchDate: return "is not a date in the calendar"
        case .noSuchTime: return "is not a time of day (00:00:00 to 23:59:59)"
        case .offsetOutOfRange: return "has a zone offset beyond ±14:00"
        }
    }
}

/// ISO-8601: `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm|±hhmm)`, a space allowed for the T; the
/// zone may be left out (meaning UTC) only if `zoneRequired` is false. ASCII digits only; dates and
/// times that do not exist are refused, never rolled over.
func parseISO8601(_ bytes: ArraySlice<UInt8>, zoneRequired: Bool = true) -> Result<Date, TimeProblem> {
    var position = bytes.startIndex
    func number(_ width: Int) -> Int? {
        guard position + width <= bytes.endIndex else { return nil }
        var value = 0
        for byte in bytes[position..<position + width] {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        position += width
        return value
    }
    func skip(_ allowed: String) -> Bool {
        guard position < bytes.endIndex, allowed.utf8.contains(bytes[position]) else { return false }
        position += 1
        return true
    }
    guard let year = number(4), skip("-"), let month = number(2), skip("-"), let day = number(2), skip("T "),
          let hour = number(2), skip(":"), let minute = number(2), skip(":"), let second = number(2) else { return .failure(.notISO8601) }
    var fraction = 0.0
    if skip(".") {
        let start = position
        while position < bytes.endIndex, position - start < 9, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
        guard position > start, let digits = Double("0." + String(decoding: bytes[start..<position], as: UTF8.self)) else { return .failure(.notISO8601) }
        fraction = digits
    }
    var offsetMinutes = 0
    if !skip("Z"), zoneRequired || position < bytes.endIndex {
        guard position < bytes.endIndex, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") else { return .failure(.notISO8601) }
        let sign = bytes[position] == UInt8(ascii: "-") ? -1 : 1
        position += 1
        guard let offsetHours = number(2) else { return .failure(.notISO8601) }
        _ = skip(":")
        guard let offsetMinutePart = number(2) else { return .failure(.notISO8601) }
        guard offsetMinutePart < 60, offsetHours * 60 + offsetMinutePart <= 14 * 60 else { return .failure(.offsetOutOfRange) }
        offsetMinutes = sign * (offsetHours * 60 + offsetMinutePart)
    }
    guard position == bytes.endIndex else { return .failure(.notISO8601) }
    guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day) else { return .failure(.noSuchDate) }
    guard hour < 24, minute < 60, second < 60 else { return .failure(.noSuchTime) }
    let seconds = ((daysFromCivil(year: year, month: month, day: day) * 24 + hour) * 60 + minute - offsetMinutes) * 60 + second
    return .success(Date(timeIntervalSince1970: Double(seconds) + fraction))
}

private func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
private func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
}
