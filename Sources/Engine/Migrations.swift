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
    case adoptionNeeded(tables: [String])
    case foreignHistory

    public var description: String {
        switch self {
        case let .tampered(version, name):
            return "migration \(version) (\(name)) was changed after it was applied. Restore its original text and add the change as a new migration."
        case .unknownApplied(let version):
            return "the database has migration \(version), which this bot-engine does not know. Use the bot-engine that applied it."
        case .foreignHistory:
            return "schema_migrations is not bot-engine's history (it has no version, name and checksum columns: another migration tool's?); "
                + "nothing was changed. bot-engine keeps its history under that name, so keep the ledger in a database (or a schema first on search_path) without it."
        case .adoptionNeeded(let tables):
            return "the database already has ledger tables (\(tables.joined(separator: ", "))) that bot-engine did not create; nothing was changed. "
                + "Run `bot-engine migrate --adopt --dry-run` to see how they would be taken over, then `bot-engine migrate --adopt`."
        }
    }
}

public struct Migrator: Sendable {
    /// Held for the whole run; the same key as earlier versions' per-migration lock, so an older
    /// bot-engine migrating at the same time waits too.
    static let lockKey = 727_274
    public let migrations: [Migration]
    /// How long adoption's ALTER TABLEs wait for a table another session holds before giving up.
    public let lockTimeout: Duration

    public init(migrations: [Migration] = Schema.migrations, lockTimeout: Duration = .seconds(5)) {
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.lockTimeout = lockTimeout
    }

    /// Applies the missing migrations in order, each in its own transaction. Everything, creating
    /// `schema_migrations` included, runs under an advisory lock so two migrating processes cannot
    /// interleave. The database's history is checked before anything is applied: a version this
    /// bot-engine does not know, or an applied migration whose text changed, stops the run.
    /// Returns the versions applied now.
    @discardableResult
    public func migrate(_ connection: PostgresConnection) async throws -> [Int] {
        try await locked(connection) { try await migrateLocked($0) }
    }

    /// Takes over a ledger whose tables another program created (no `schema_migrations`): compares
    /// them with the ledger migrations' shape, refuses (`AdoptionRefused`, nothing changed) what
    /// would need a rewrite or a guess, applies the additive rest, records the ledger migrations
    /// as the baseline and applies the later ones as usual. `dryRun` only plans. On a database
    /// bot-engine already migrates, it is plain `migrate`. An interrupted adoption is resumed by
    /// running it again (what it added is found in place).
    public func adopt(_ connection: PostgresConnection, dryRun: Bool) async throws -> AdoptionResult {
        try await locked(connection) { connection in
            if try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL").rows[0].bool(0) {
                return AdoptionResult(alreadyManaged: true, plan: AdoptionPlan(), baseline: [], applied: dryRun ? [] : try await migrateLocked(connection))
            }
            let ledgerVersions = Set(Schema.ledgerMigrations.map(\.version))
            let ledger = migrations.filter { ledgerVersions.contains($0.version) }
            let adoption = Adoption(migrations: ledger, connection: connection, lockTimeout: lockTimeout)
            let plan = try await adoption.plan()
            guard plan.refusals.isEmpty else { throw AdoptionRefused(refusals: plan.refusals) }
            if dryRun { return AdoptionResult(plan: plan, baseline: [], applied: []) }
            try await adoption.apply(plan)
            try await connection.transaction { connection in
                try await createHistory(connection)
                for migration in ledger {
                    try await connection.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, md5($3))",
                                               [migration.version, migration.name + " (adopted)", migration.sql])
                }
            }
            return AdoptionResult(plan: plan, baseline: ledger.map(\.version), applied: try await migrateLocked(connection))
        }
    }

    private func locked<T: Sendable>(_ connection: PostgresConnection, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        // Waits between tries, not in `pg_advisory_lock`: a statement waiting there holds a snapshot,
        // which a running adoption's CREATE INDEX CONCURRENTLY waits for, and PostgreSQL would end
        // one of the two as a deadlock.
        while try await !connection.query("SELECT pg_try_advisory_lock($1)", [Self.lockKey]).rows[0].bool(0) {
            try await Task.sleep(for: .milliseconds(100))
        }
        do {
            let value = try await body(connection)
            try await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
            return value
        } catch {
            // On a dropped connection the server has released the lock already.
            _ = try? await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
            throw error
        }
    }

    private func createHistory(_ connection: PostgresConnection) async throws {
        try await connection.execute(script: """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
    }

    private func migrateLocked(_ connection: PostgresConnection) async throws -> [Int] {
        // Ledger tables another program created: CREATE TABLE would fail half-way with "already exists".
        let ledgerTables = SchemaStatement.tables(SchemaStatement.split(Schema.ledgerMigrations))
        let state = try await connection.query("""
            SELECT to_regclass('schema_migrations') IS NULL,
                   coalesce(array_to_string(array(SELECT t FROM unnest(string_to_array($1, ',')) t WHERE to_regclass(t) IS NOT NULL), ','), ''),
                   (SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass('schema_migrations') AND NOT attisdropped
                    AND attname IN ('version', 'name', 'checksum')) = 3
            """, [ledgerTables.joined(separator: ",")]).rows[0]
        let existing = try state.string(1).split(separator: ",").map(String.init)
        if try state.bool(0), !existing.isEmpty { throw MigrationError.adoptionNeeded(tables: existing) }
        // Another tool's table of that name (dbmate, golang-migrate): its versions are not ours.
        if try !state.bool(0), try !state.bool(2) { throw MigrationError.foreignHistory }
        try await createHistory(connection)
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
