import Postgres

/// One schema change. Its checksum (md5 of `sql`, computed by the server) is recorded when it is
/// applied; if the text changes afterwards, `migrate` refuses to go on.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

public enum MigrationError: Error, Equatable, CustomStringConvertible {
    case tampered(version: Int, name: String)
    case unknownApplied(version: Int)

    public var description: String {
        switch self {
        case let .tampered(version, name):
            return "migration \(version) (\(name)) was changed after it was applied. Restore its original text and add the change as a new migration."
        case .unknownApplied(let version):
            return "the database has migration \(version), which this bot-engine does not know. Use the bot-engine that applied it."
        }
    }
}

public struct Migrator: Sendable {
    public let migrations: [Migration]

    public init(migrations: [Migration] = Schema.migrations) {
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// Applies the missing migrations in order, each in its own transaction, under an advisory lock
    /// so two migrating processes cannot interleave. Returns the versions applied now.
    @discardableResult
    public func migrate(_ connection: PostgresConnection) async throws -> [Int] {
        try await connection.execute(script: """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        var applied: [Int] = []
        for migration in migrations {
            let didApply = try await connection.transaction { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(727274)")
                let existing = try await connection.query(
                    "SELECT checksum = md5($2) FROM schema_migrations WHERE version = $1",
                    [migration.version, migration.sql])
                if let row = existing.rows.first {
                    guard try row.bool(0) else { throw MigrationError.tampered(version: migration.version, name: migration.name) }
                    return false
                }
                try await connection.execute(script: migration.sql)
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, md5($3))",
                    [migration.version, migration.name, migration.sql])
                return true
            }
            if didApply { applied.append(migration.version) }
        }
        let known = Set(migrations.map(\.version))
        for row in try await connection.query("SELECT version FROM schema_migrations ORDER BY version").rows {
            let version = try row.int(0)
            if !known.contains(version) { throw MigrationError.unknownApplied(version: version) }
        }
        return applied
    }
}
