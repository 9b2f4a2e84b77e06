import Foundation
import Postgres
import SandboxSupport
import Testing

/// Against the sandbox's real PostgreSQL 15.
@Suite(.enabled(if: Sandbox.isAvailable, "needs the sandbox's PostgreSQL: scripts/sandbox up"))
struct PostgresConnectionTests {
    @Test func parametersAreBoundNeverSpliced() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await db.execute(script: "CREATE TABLE notes (id serial, body text)")
            let hostile = "x'); DROP TABLE notes; --"
            try await db.query("INSERT INTO notes (body) VALUES ($1)", [hostile])
            let rows = try await db.query("SELECT body FROM notes WHERE body = $1", [hostile]).rows
            #expect(try rows.map { try $0.string(0) } == [hostile])
            let nulls = try await db.query("SELECT $1::text IS NULL", [nil as String?]).rows
            #expect(try nulls[0].bool(0))
        }
    }

    @Test func serverErrorsCarrySQLSTATE() async throws {
        try await TestDatabase.with { db, _ async throws in
            let error = await #expect(throws: PostgresError.self) { try await db.query("SELECT * FROM missing_table") }
            #expect(error?.sqlstate == "42P01")
            #expect(error?.description.contains("missing_table") == true)
            // The connection stays usable after an error.
            let after = try await db.query("SELECT 1")
            #expect(try after.rows[0].int(0) == 1)
        }
    }

    @Test func connectionErrorsNeverShowThePassword() async throws {
        let url = try TestDatabase.serverURL
        let password = try #require(URLComponents(string: url)?.password)
        let wrong = url.replacing(":\(password)@", with: ":not-the-\(password)@")
        let error = await #expect(throws: PostgresError.self) { _ = try await PostgresConnection.connect(wrong) }
        let message = error?.description ?? ""
        #expect(message.contains("password authentication failed"))
        #expect(!message.contains(password))
    }

    @Test func transactionRollsBackOnError() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await db.execute(script: "CREATE TABLE t (v int UNIQUE)")
            await #expect(throws: PostgresError.self) {
                try await db.transaction { tx in
                    try await tx.query("INSERT INTO t VALUES (1)")
                    try await tx.query("INSERT INTO t VALUES (1)")
                }
            }
            let count = try await db.query("SELECT count(*) FROM t")
            #expect(try count.rows[0].int(0) == 0)
        }
    }

    @Test func commitFailureIsReportedAsSuch() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await db.execute(script: "CREATE TABLE t (v int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
            let error = await #expect(throws: PostgresError.self) {
                try await db.transaction { tx in
                    try await tx.query("INSERT INTO t VALUES (1), (1)")
                }
            }
            guard case .commitFailed(let message)? = error else {
                Issue.record("expected commitFailed, got \(String(describing: error))")
                return
            }
            #expect(message.contains("23505"))
        }
    }

    @Test func commitOfAFailedTransactionIsAFailedCommit() async throws {
        try await TestDatabase.with { db, _ async throws in
            let error = await #expect(throws: PostgresError.self) {
                try await db.transaction { tx in
                    // An error swallowed inside the transaction: the server turns COMMIT into ROLLBACK.
                    _ = try? await tx.query("SELECT 1 / 0")
                }
            }
            guard case .commitFailed(let message)? = error else {
                Issue.record("expected commitFailed, got \(String(describing: error))")
                return
            }
            #expect(message.contains("rolled it back"))
        }
    }

    /// The backend is terminated while it executes COMMIT (a deferred trigger keeps it busy there).
    @Test func connectionLostDuringCommitLeavesTheOutcomeUnknown() async throws {
        try await TestDatabase.with { db, database async throws in
            try await db.execute(script: """
                CREATE TABLE t (v int);
                CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$;
                CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON t DEFERRABLE INITIALLY DEFERRED
                    FOR EACH ROW EXECUTE FUNCTION slow();
                """)
            let victim = try await database.connect()
            let pid = try await victim.query("SELECT pg_backend_pid()").rows[0].int(0)
            let terminator = Task {
                for _ in 0..<1000 {
                    let committing = try await db.query(
                        "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND query = 'COMMIT' AND wait_event = 'PgSleep'", [pid])
                    if try committing.rows[0].int(0) == 1 {
                        return try await db.query("SELECT pg_terminate_backend($1)", [pid]).rows[0].bool(0)
                    }
                    try await Task.sleep(for: .milliseconds(10))
                }
                return false
            }
            let error = await #expect(throws: PostgresError.self) {
                try await victim.transaction { tx in try await tx.query("INSERT INTO t VALUES (1)") }
            }
            #expect(try await terminator.value)
            guard case .commitOutcomeUnknown? = error else {
                Issue.record("expected commitOutcomeUnknown, got \(String(describing: error))")
                return
            }
            #expect(error?.description.contains("whether the transaction was written is unknown") == true)
            #expect(error?.description.contains("nothing was written") == false)
        }
    }

    @Test func copyRoundTripsAwkwardText() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await db.execute(script: "CREATE TABLE t (a text, b text)")
            let awkward = ["tab\there", "line\nbreak", "back\\slash", "\\N literal", "ünïcødé"]
            let count = try await db.copyIn("COPY t (a, b) FROM STDIN") { writer in
                for value in awkward { writer.row([value, nil]) }
            }
            #expect(count == awkward.count)
            let rows = try await db.query("SELECT a, b IS NULL FROM t ORDER BY a").rows
            #expect(try Set(rows.map { try $0.string(0) }) == Set(awkward))
            #expect(try rows.allSatisfy { try $0.bool(1) })
        }
    }

    @Test func copyErrorsNameTheLine() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await db.execute(script: "CREATE TABLE t (n int)")
            let error = await #expect(throws: PostgresError.self) {
                try await db.copyIn("COPY t (n) FROM STDIN") { writer in
                    writer.row(["1"])
                    writer.row(["two"])
                }
            }
            #expect(error?.sqlstate == "22P02")
            #expect(error?.description.contains("line 2") == true)
            let count = try await db.query("SELECT count(*) FROM t")
            #expect(try count.rows[0].int(0) == 0)
        }
    }

    /// Every time a timestamptz can hold is read back as exactly the time bound, whatever the
    /// session's DateStyle: early years once came back as years of this century (0001 as 2005).
    @Test func datesBindAsTheSameTimestamptz() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await db.query("SET DateStyle = 'SQL, DMY'")
            let epochs: [Double] = [
                -62_135_251_200,    // 0001-01-05 (was read as 2005-01-01)
                -61_788_182_400,    // 0012-01-05 (was read as 2005-12-01)
                -30_578_688_000,    // 1001-01-01
                -62_166_873_600,    // 0000-01-05, that is 1 BC (was refused)
                -77_945_673_600,    // 501 BC
                1_767_623_400.123456,
                -0.000001,          // 1969-12-31 23:59:59.999999
                9_224_318_015_999,  // 294276-12-31 23:59:59, PostgreSQL's last second (trapped)
            ]
            for epoch in epochs {
                let row = try await db.query("SELECT extract(epoch FROM $1::timestamptz)::text", [Date(timeIntervalSince1970: epoch)]).rows[0]
                #expect(try Double(row.string(0)) == epoch, "\(epoch)")
            }
            for (time, text) in [(Double.infinity, "infinity"), (-Double.infinity, "-infinity"), (1e300, "infinity")] {
                let row = try await db.query("SELECT $1::timestamptz = $2::timestamptz", [Date(timeIntervalSince1970: time), text]).rows[0]
                #expect(try row.bool(0), "\(time)")
            }
        }
    }
}
