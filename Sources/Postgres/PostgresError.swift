import CLibPQ

/// What went wrong talking to PostgreSQL. Messages come from the server or libpq and never
/// contain the connection string or password.
public enum PostgresError: Error, Equatable, CustomStringConvertible {
    case connection(message: String)
    /// `context` is where it happened, e.g. "COPY market_bars, line 5, column ts".
    case server(sqlstate: String, message: String, detail: String?, hint: String?, context: String?)
    case decoding(column: Int, expected: String, found: String?)
    case commitFailed(String)
    case rollbackFailed(original: String, rollback: String)

    public var sqlstate: String? {
        if case .server(let sqlstate, _, _, _, _) = self { return sqlstate }
        return nil
    }

    public var description: String {
        switch self {
        case .connection(let message):
            return "cannot talk to PostgreSQL: \(message). Check the database URL (or PG* variables) and that the server runs."
        case let .server(sqlstate, message, detail, hint, context):
            var text = "\(message) (SQLSTATE \(sqlstate))"
            if let detail { text += "; \(detail)" }
            if let hint { text += "; hint: \(hint)" }
            if let context { text += "; at \(context)" }
            return text
        case let .decoding(column, expected, found):
            return "column \(column): expected \(expected), found \(found.map { "'\($0)'" } ?? "NULL")"
        case .commitFailed(let message):
            return "COMMIT failed, nothing was written: \(message)"
        case let .rollbackFailed(original, rollback):
            return "\(original); then ROLLBACK failed too: \(rollback). Reconnect before retrying."
        }
    }

    static func from(result: OpaquePointer?, connection: OpaquePointer) -> PostgresError {
        func field(_ code: Int32) -> String? {
            guard let result, let value = PQresultErrorField(result, code) else { return nil }
            return String(cString: value)
        }
        guard let sqlstate = field(Int32(UInt8(ascii: "C"))) else {
            return .connection(message: PostgresConnection.connectionMessage(connection))
        }
        return .server(sqlstate: sqlstate,
                       message: field(Int32(UInt8(ascii: "M"))) ?? "unknown error",
                       detail: field(Int32(UInt8(ascii: "D"))),
                       hint: field(Int32(UInt8(ascii: "H"))),
                       context: field(Int32(UInt8(ascii: "W"))))
    }
}
