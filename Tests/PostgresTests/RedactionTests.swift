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

    /// libpq's own messages for passwords it splits: each once showed the piece named last.
    @Test("a piece of a split password is masked", arguments: [
        ("postgres://u:S3cr/et@127.0.0.1:5432/x", #"invalid integer value "S3cr" for connection option "port""#, "S3cr"),
        ("postgres://u:S3c@ret@127.0.0.1:5432/x", #"could not translate host name "ret@127.0.0.1" to address"#, "ret@"),
        ("POSTGRES://u:S3cret@127.0.0.1:5432/x", #"missing "=" after "POSTGRES://u:S3cret@127.0.0.1:5432/x" in connection info string"#, "S3cret"),
        ("host=127.0.0.1 password=S3 cret", #"missing "=" after "cret" in connection info string"#, "cret"),
    ])
    func masksPiecesOfSplitPasswords(conninfo: String, message: String, leaked: String) {
        let redacted = redactPasswords(message, conninfo: conninfo)
        #expect(!redacted.contains(leaked), "\(redacted)")
        #expect(redacted.contains("\"***\""), "\(redacted)")
    }

    @Test func piecesOutsideThePasswordStayReadable() {
        let message = #"invalid integer value "notaport" for connection option "port""#
        #expect(redactPasswords(message, conninfo: "postgres://u:S3cret@127.0.0.1:notaport/x") == message)
    }

    /// The same through the real libpq (no server is reached: each fails while parsing or on the
    /// closed loopback port 1).
    @Test("libpq never shows a piece of a password", arguments: [
        ("postgres://u:Pa55/w0rd@127.0.0.1:1/x", ["Pa55", "w0rd"]),
        ("PostgreSQL://u:Pa55w0rd@127.0.0.1:1/x", ["Pa55w0rd"]),
        ("host=127.0.0.1 port=1 password=Pa55 w0rd", ["Pa55", "w0rd"]),
    ])
    func libpqMessagesHideSplitPasswords(conninfo: String, pieces: [String]) async throws {
        let error = await #expect(throws: PostgresError.self) { _ = try await PostgresConnection.connect(conninfo) }
        let message = error?.description ?? ""
        for piece in pieces { #expect(!message.contains(piece), "\(message)") }
    }
}
