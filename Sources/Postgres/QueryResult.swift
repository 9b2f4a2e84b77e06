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
    /// UTC with microseconds, which timestamptz keeps exactly.
    public var postgresText: String {
        let micros = Int64((timeIntervalSince1970 * 1_000_000).rounded())
        var seconds = time_t(micros / 1_000_000)
        var fraction = micros % 1_000_000
        if fraction < 0 { fraction += 1_000_000; seconds -= 1 }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, 32, "%Y-%m-%d %H:%M:%S", &parts)
        let padded = String(fraction).count < 6 ? String(repeating: "0", count: 6 - String(fraction).count) + String(fraction) : String(fraction)
        return String(cString: buffer) + "." + padded + "+00"
    }
}
