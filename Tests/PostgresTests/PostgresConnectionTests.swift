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
}
