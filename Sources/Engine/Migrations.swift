import Postgres

/// One schema change. Its checksum (md5 of `sql`, computed by the server) is recorded when it is
/// applied; if the text changes afterwards, `migrate` refuses to go on.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String
    /// md5s of earlier texts of this migration that differed only in comments: a database that
    /// applied one of them is not tampered with, and its record is brought up to date.
    public let commentOnlyEarlierChecksums: [String]

    public init(version: Int, name: String, commentOnlyEarlierChecksums: [String] = [], sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.commentOnlyEarlierChecksums = commentOnlyEarlierChecksums
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
    /// Held for the whole run; the same key as earlier versions' per-migration lock, so an older
    /// bot-engine migrating at the same time waits too.
    static let lockKey = 727_274
    public let migrations: [Migration]

    public init(migrations: [Migration] = Schema.migrations) {
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// Applies the missing migrations in order, each in its own transaction. Everything, creating
    /// `schema_migrations` included, runs under an advisory lock so two migrating processes cannot
    /// interleave. The database's history is checked before anything is applied: a version this
    /// bot-engine does not know, or an applied migration whose text changed, stops the run.
    /// Returns the versions applied now.
    @discardableResult
    public func migrate(_ connection: PostgresConnection) async throws -> [Int] {
        try await connection.query("SELECT pg_advisory_lock($1)", [Self.lockKey])
        do {
            let applied = try await migrateLocked(connection)
            try await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
            return applied
        } catch {
            // On a dropped connection the server has released the lock already.
            _ = try? await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
            throw error
        }
    }

    private func migrateLocked(_ connection: PostgresConnection) async throws -> [Int] {
        try await connection.execute(script: """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let known = Set(migrations.map(\.version))
        let appliedVersions = try await connection.query("SELECT version FROM schema_migrations ORDER BY version").rows.map { try $0.int(0) }
        if let unknown = appliedVersions.first(where: { !known.contains($0) }) {
            throw MigrationError.unknownApplied(version: unknown)
        }
        let applied = Set(appliedVersions)
        for migration in migrations where applied.contains(migration.version) {
            let unchanged = try await connection.query(
                "SELECT checksum = md5($2) OR checksum = ANY(string_to_array($3, ',')) FROM schema_migrations WHERE version = $1",
                [migration.version, migration.sql, migration.commentOnlyEarlierChecksums.joined(separator: ",")])
            guard let row = unchanged.rows.first, try row.bool(0) else { throw MigrationError.tampered(version: migration.version, name: migration.name) }
            if !migration.commentOnlyEarlierChecksums.isEmpty {
                try await connection.query("UPDATE schema_migrations SET checksum = md5($2) WHERE version = $1", [migration.version, migration.sql])
            }
        }
        var appliedNow: [Int] = []
        for migration in migrations where !applied.contains(migration.version) {
            try await connection.transaction { connection in
                try await connection.execute(script: migration.sql)
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, md5($3))",
                    [migration.version, migration.name, migration.sql])
            }
            appliedNow.append(migration.version)
        }
        return appliedNow
    }
}
