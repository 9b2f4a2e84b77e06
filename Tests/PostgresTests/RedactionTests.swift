@testable import Postgres
import Testing

@Suite struct RedactionTests {
    @Test("libpq echoing a conninfo never shows its password", arguments: [
        "postgres://bot:s3cr3t-value@db:5432/x",
        "postgres:/bot:s3cr3t-value@db:5432/x",
        "host=db user=bot password=s3cr3t-value dbname=x",
        "host=db password='s3cr3t-value'",
    ])
    func masksPasswords(conninfo: String) {
        let message = "missing \"=\" after \"\(conninfo)\" in connection info string"
        let redacted = redactPasswords(message, conninfo: conninfo)
        #expect(!redacted.contains("s3cr3t-value"))
        #expect(redacted.contains("***"))
    }

    @Test func malformedConninfoFromTheServerIsRedactedToo() async throws {
        // A real libpq parse error for a URL missing a slash: the password must not come back.
        let error = await #expect(throws: PostgresError.self) {
            _ = try await PostgresConnection.connect("postgres:/bot:s3cr3t-value@127.0.0.1:1/x")
        }
        #expect(error?.description.contains("s3cr3t-value") == false)
    }
}
