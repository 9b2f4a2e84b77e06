import CLibPQ
import Foundation

/// One PostgreSQL connection over libpq. Not shared across threads: every libpq call for it runs
/// on its own serial queue (never on Swift's cooperative pool), one at a time.
///
/// Queries take bound parameters only (`$1`, `$2`, … with `PQexecParams`); values never become
/// part of the SQL text. Errors carry SQLSTATE and the server's message, never the connection
/// string or its password.
public final class PostgresConnection: @unchecked Sendable {
    private let queue: DispatchQueue
    private var handle: OpaquePointer?

    private init(handle: OpaquePointer, label: String) {
        self.handle = handle
        self.queue = DispatchQueue(label: label)
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// Connects with a `postgres://` URL or key=value conninfo; with nil, libpq reads the standard
    /// PG* environment variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE).
    public static func connect(_ conninfo: String? = nil) async throws -> PostgresConnection {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                guard let handle = PQconnectdb(conninfo ?? "") else {
                    continuation.resume(throwing: PostgresError.connection(message: "libpq could not allocate a connection"))
                    return
                }
                guard PQstatus(handle) == CONNECTION_OK else {
                    let message = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
                    PQfinish(handle)
                    continuation.resume(throwing: PostgresError.connection(message: redactPasswords(message, conninfo: conninfo)))
                    return
                }
                // Server notices (e.g. "already exists, skipping") are not errors; keep them off stderr.
                PQsetNoticeProcessor(handle, { _, _ in }, nil)
                continuation.resume(returning: PostgresConnection(handle: handle, label: "postgres"))
            }
        }
    }

    /// Runs `body` on the connection's queue.
    private func onQueue<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                guard let handle = self.handle else {
                    continuation.resume(throwing: PostgresError.connection(message: "connection is closed"))
                    return
                }
                continuation.resume(with: Result { try body(handle) })
            }
        }
    }

    /// Runs one statement with bound parameters and returns its rows (text format).
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresBindable?] = []) async throws -> QueryResult {
        let texts = parameters.map { $0?.postgresText }
        return try await onQueue { handle in try Self.execute(handle, sql, texts) }
    }

    /// Runs SQL without parameters, possibly several statements (migrations).
    public func execute(script sql: String) async throws {
        try await onQueue { handle in
            guard PQsendQuery(handle, sql) == 1 else { throw PostgresError.connection(message: Self.connectionMessage(handle)) }
            try Self.drainResults(handle)
        }
    }

    /// BEGIN … COMMIT; ROLLBACK if `body` throws. A failed COMMIT and a failed ROLLBACK are
    /// reported as what they are, not as the body's error. A COMMIT that the server turned into a
    /// ROLLBACK (the transaction had failed) is a failed COMMIT; a connection lost during COMMIT
    /// leaves the outcome unknown, and is reported so.
    public func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await query("BEGIN")
        let value: T
        do {
            value = try await body(self)
        } catch {
            do {
                try await query("ROLLBACK")
            } catch let rollbackError as PostgresError {
                throw PostgresError.rollbackFailed(original: String(describing: error), rollback: rollbackError.description)
            }
            throw error
        }
        let commit: QueryResult
        do {
            commit = try await query("COMMIT")
        } catch let commitError as PostgresError {
            if await isBroken { throw PostgresError.commitOutcomeUnknown(commitError.description) }
            throw PostgresError.commitFailed(commitError.description)
        }
        guard commit.commandTag == "COMMIT" else {
            throw PostgresError.commitFailed("the transaction had failed, so PostgreSQL rolled it back (\(commit.commandTag))")
        }
        return value
    }

    /// Whether the connection to the server is gone (closed here, or dropped).
    var isBroken: Bool {
        get async { (try? await onQueue { PQstatus($0) == CONNECTION_BAD }) ?? true }
    }

    /// `COPY table (columns) FROM STDIN` in text format: `write` is called with a writer that
    /// escapes each field. Data goes to the server in 1 MB chunks.
    @discardableResult
    public func copyIn(_ sql: String, write: @escaping @Sendable (inout CopyWriter) -> Void) async throws -> Int {
        try await onQueue { handle in
            let start = PQexec(handle, sql)
            defer { PQclear(start) }
            guard PQresultStatus(start) == PGRES_COPY_IN else {
                throw PostgresError.from(result: start, connection: handle)
            }
            var writer = CopyWriter { chunk in
                chunk.withUnsafeBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) == 1 }
                }
            }
            write(&writer)
            let sent = writer.finish()
            guard PQputCopyEnd(handle, sent ? nil : "client stopped sending") == 1 else {
                throw PostgresError.connection(message: Self.connectionMessage(handle))
            }
            let result = try Self.drainResults(handle)
            return result?.affectedRows ?? 0
        }
    }

    /// `COPY … FROM STDIN` with data the caller has already encoded (text or binary format),
    /// sent in 1 MB chunks.
    @discardableResult
    public func copyIn(_ sql: String, data: [UInt8]) async throws -> Int {
        try await onQueue { handle in
            let start = PQexec(handle, sql)
            defer { PQclear(start) }
            guard PQresultStatus(start) == PGRES_COPY_IN else { throw PostgresError.from(result: start, connection: handle) }
            var sent = true
            data.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { bytes in
                    guard let base = bytes.baseAddress else { return }
                    var offset = 0
                    while sent, offset < bytes.count {
                        let length = min(1 << 20, bytes.count - offset)
                        sent = PQputCopyData(handle, base + offset, Int32(length)) == 1
                        offset += length
                    }
                }
            }
            guard PQputCopyEnd(handle, sent ? nil : "client stopped sending") == 1 else {
                throw PostgresError.connection(message: Self.connectionMessage(handle))
            }
            return try Self.drainResults(handle)?.affectedRows ?? 0
        }
    }

    /// `COPY … TO STDOUT`: everything the server sends, as bytes (binary format if asked for in
    /// the statement). Values cannot be bound in COPY; pass them with `set_config` beforehand.
    public func copyOut(_ sql: String) async throws -> [UInt8] {
        try await onQueue { handle in
            let start = PQexec(handle, sql)
            defer { PQclear(start) }
            guard PQresultStatus(start) == PGRES_COPY_OUT else { throw PostgresError.from(result: start, connection: handle) }
            var data: [UInt8] = []
            var chunk: UnsafeMutablePointer<CChar>?
            while true {
                let length = PQgetCopyData(handle, &chunk, 0)
                guard length >= 0, let bytes = chunk else { break }
                bytes.withMemoryRebound(to: UInt8.self, capacity: Int(length)) { data.append(contentsOf: UnsafeBufferPointer(start: $0, count: Int(length))) }
                PQfreemem(bytes)
                chunk = nil
            }
            try Self.drainResults(handle)
            return data
        }
    }

    /// Runs `body`, then closes this connection whether `body` succeeds or throws.
    public func closing<T: Sendable>(after body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            let value = try await body(self)
            await close()
            return value
        } catch {
            await close()
            throw error
        }
    }

    public func close() async {
        _ = try? await onQueue { handle in
            PQfinish(handle)
            self.handle = nil
        }
    }

    // MARK: - libpq, on the queue

    private static func execute(_ handle: OpaquePointer, _ sql: String, _ parameters: [String?]) throws -> QueryResult {
        let cStrings = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { cStrings.forEach { free($0) } }
        let pointers = cStrings.map { UnsafePointer<CChar>($0) }
        let sent = pointers.withUnsafeBufferPointer { buffer in
            PQsendQueryParams(handle, sql, Int32(parameters.count), nil, buffer.baseAddress, nil, nil, 0)
        }
        guard sent == 1 else { throw PostgresError.connection(message: connectionMessage(handle)) }
        return try drainResults(handle) ?? QueryResult(columns: [], rows: [], affectedRows: 0, commandTag: "")
    }

    /// Reads every result of the last command until libpq returns nil, clearing each; the first
    /// error wins, the last successful result is returned.
    @discardableResult
    private static func drainResults(_ handle: OpaquePointer) throws -> QueryResult? {
        var firstError: PostgresError?
        var last: QueryResult?
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                last = QueryResult(result)
            default:
                firstError = firstError ?? PostgresError.from(result: result, connection: handle)
            }
        }
        if let firstError { throw firstError }
        return last
    }

    static func connectionMessage(_ handle: OpaquePointer) -> String {
        String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
