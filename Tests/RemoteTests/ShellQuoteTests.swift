import Remote
import Testing

@Suite struct ShellQuoteTests {
    static let hostile = [
        "it's", "'", "''", "$(touch /tmp/botops-pwned)", "`id`", "a\nb", "a; rm -rf /", "\"quoted\"",
        "$HOME", "*", "~", "a b\tc", "\\", "!event", "-n", "", "back\\slash'quote\"mix$(x)`y`",
    ]

    @Test("hostile strings survive a real /bin/sh unchanged", arguments: hostile)
    func roundTripsThroughShell(value: String) async throws {
        let result = try await LocalHost().run("printf '%s' " + shellQuote(value))
        #expect(result.succeeded)
        #expect(result.stdoutText == value)
    }

    @Test func safeWordsStayReadable() {
        #expect(shellQuote("/opt/bot/docker-compose.aws.yml") == "/opt/bot/docker-compose.aws.yml")
        #expect(shellQuote("bot_user") == "bot_user")
        #expect(shellQuote("a b") == "'a b'")
        #expect(shellQuote("") == "''")
    }

    @Test func argumentVectorKeepsArgumentBoundaries() async throws {
        let command = shellCommand(["printf", "[%s]", "a b", "$(x)", "it's"])
        let result = try await LocalHost().run(command)
        #expect(result.stdoutText == "[a b][$(x)][it's]")
    }

    @Test func namesRejectShellSyntax() {
        #expect(Name.isValid("report-job"))
        #expect(Name.isValid("bot_trader_db"))
        #expect(!Name.isValid("db; rm -rf /"))
        #expect(!Name.isValid("-rf"))
        #expect(!Name.isValid(""))
        #expect(!Name.isValid("a b"))
    }
}
