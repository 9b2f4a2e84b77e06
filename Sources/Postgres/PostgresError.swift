import CLibPQ

/// What went wrong talking to PostgreSQL. Messages come from the server or libpq and never
/// contain the connection string or password.
public enum PostgresError: Error, Equatable, CustomStringConvertible {
    case connection(message: String)
    /// `context` is where it happened, e.g. "COPY market_bars, line 5, column ts".
    case server(sqlstate: String, message: String, detail: String?, hint: String?, context: String?)
    case decoding(column: Int, expected: String, found: String?)
    /// COMMIT was refused: the transaction was rolled back, nothing was written.
    case commitFailed(String)
    /// The connection dropped while COMMIT was in flight: the transaction may or may not be written.
    case commitOutcomeUnknown(String)
    case rollbackFailed(original: String, rollback: String)

    public var sqlstate: String? {
        if case .server(let sqlstate, _, _, _, _) = self { return sqlstate }
        return nil
    }

    /// For an error during `COPY … FROM STDIN`: the server's 1-based line number of the data sent.
    public var copyLine: Int? {
        guard case .server(_, _, _, _, let context?) = self,
              let match = context.firstMatch(of: /^COPY [^,]+, line ([0-9]{1,18})/) else { return nil }
        return Int(match.output.1)
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
        case .commitOutcomeUnknown(let message):
            return "the connection was lost during COMMIT, so whether the transaction was written is unknown: \(message). "
                + "Reconnect and check what the database holds before retrying."
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
