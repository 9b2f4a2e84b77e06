import CLibPQ
import Foundation

/// Rows of one statement, copied out of libpq's result (which is cleared right after).
public struct QueryResult: Sendable {
    public let columns: [String]
    public let rows: [Row]
    public let affectedRows: Int
    /// The server's command tag, e.g. "INSERT 0 5"; "ROLLBACK" for a COMMIT of a failed transaction.
    public let commandTag: String

    init(columns: [String], rows: [Row], affectedRows: Int, commandTag: String) {
        self.columns = columns
        self.rows = rows
        self.affectedRows = affectedRows
        self.commandTag = commandTag
    }

    init(_ result: OpaquePointer) {
        let columnCount = PQnfields(result)
        let rowCount = PQntuples(result)
        columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        rows = (0..<rowCount).map { row in
            Row(values: (0..<columnCount).map { column in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            })
        }
        affectedRows = Int(String(cString: PQcmdTuples(result))) ?? 0
        commandTag = String(cString: PQcmdStatus(result))
    }
}

/// One row in PostgreSQL's text format, with typed accessors that name the column on failure.
public struct Row: Sendable {
    public let values: [String?]

    public func string(_ column: Int) throws -> String {
        guard column < values.count, let value = values[column] else { throw PostgresError.decoding(column: column, expected: "text", found: nil) }
        return value
    }

    public func optionalString(_ column: Int) -> String? {
        column < values.count ? values[column] : nil
    }

    public func int(_ column: Int) throws -> Int {
        let text = try string(column)
        guard let value = Int(text) else { throw PostgresError.decoding(column: column, expected: "integer", found: text) }
        return value
    }

    public func bool(_ column: Int) throws -> Bool {
        let text = try string(column)
        guard text == "t" || text == "f" else { throw PostgresError.decoding(column: column, expected: "boolean", found: text) }
        return text == "t"
    }

    public func decode<T: PostgresDecodable>(_ type: T.Type, _ column: Int) throws -> T {
        let text = try string(column)
        guard let value = T(postgresText: text) else { throw PostgresError.decoding(column: column, expected: String(describing: T.self), found: text) }
        return value
    }
}

/// A value sent as a bound parameter, in PostgreSQL's text format.
public protocol PostgresBindable: Sendable {
    var postgresText: String { get }
}

/// A value read from PostgreSQL's text format.
public protocol PostgresDecodable {
    init?(postgresText: String)
}

extension String: PostgresBindable {
    public var postgresText: String { self }
}

extension Int: PostgresBindable {
    public var postgresText: String { String(self) }
}

extension Date: PostgresBindable {
    /// UTC with microseconds, which timestamptz keeps exactly. The year always has at least four
    /// digits (PostgreSQL reads a shorter one as a two-digit year: `1-01-05` is 2005) and years
    /// before 1 are written as BC. A time beyond any timestamptz (±∞ included: PostgreSQL's own
    /// `infinity` reads back as that) is written `infinity` or `-infinity`, never trapped on.
    public var postgresText: String {
        let time = timeIntervalSince1970
        // PostgreSQL's range is 4713 BC to 294276 AD, inside ±10^13 seconds.
        guard time.magnitude < 1e14 else { return time > 0 ? "infinity" : "-infinity" }
        let whole = time.rounded(.down)
        var seconds = time_t(whole)
        var micros = Int(((time - whole) * 1_000_000).rounded())
        if micros == 1_000_000 { seconds += 1; micros = 0 }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let year = Int(parts.tm_year) + 1900
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
        return "\(padded(year > 0 ? year : 1 - year, 4))-\(padded(Int(parts.tm_mon) + 1, 2))-\(padded(Int(parts.tm_mday), 2)) "
            + "\(padded(Int(parts.tm_hour), 2)):\(padded(Int(parts.tm_min), 2)):\(padded(Int(parts.tm_sec), 2)).\(padded(micros, 6))+00"
            + (year > 0 ? "" : " BC")
    }
}
