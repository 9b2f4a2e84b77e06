@testable import BotOpsKit
import Foundation
import Remote
import Testing

/// Where cron's bot-engine reaches the ledger, read from `docker inspect`'s answer; and
/// engine.env written only where none exists, run by the real /bin/sh.
@Suite struct EngineDatabaseURLTests {
    let probe = EngineDatabaseURL.Probe(container: "db", user: "bot_user", database: "bot_trader_db")

    @Test func hostNetworkUsesPGPORTElseTheDefault() throws {
        #expect(try probe.parse("host||PGPORT=55432\n", succeeded: true).get().url == "postgres://bot_user@127.0.0.1:55432/bot_trader_db")
        #expect(try probe.parse("host||\n", succeeded: true).get().url == "postgres://bot_user@127.0.0.1:5432/bot_trader_db")
    }

    @Test func aPublishedPortIsReachedWhereItIsBound() throws {
        #expect(try probe.parse("bridge|5432/tcp=127.0.0.1:15432;|\n", succeeded: true).get().envLine
                == "BOT_DATABASE_URL=postgres://bot_user@127.0.0.1:15432/bot_trader_db")
        #expect(try probe.parse("bridge|8080/tcp=:8080;5432/tcp=:25432;|\n", succeeded: true).get().port == 25432)
        #expect(try probe.parse("bridge|5433/tcp=0.0.0.0:5433;|PGPORT=5433\n", succeeded: true).get().host == "127.0.0.1")
    }

    @Test func noPublishedPortOrNoContainerIsUnknownWithTheReason() {
        guard case .failure(let none) = probe.parse("bridge|8080/tcp=:8080;|\n", succeeded: true) else { Issue.record("derived"); return }
        #expect(none.reason.contains("publishes no port for PostgreSQL (5432/tcp)"))
        guard case .failure(let missing) = probe.parse("Error: No such container: db\n", succeeded: false) else { Issue.record("derived"); return }
        #expect(missing.reason.contains("No such container"))
    }

    /// The template prints PGPORT and nothing else of the environment (the password lives there).
    @Test func theTemplateNamesNoOtherVariable() {
        #expect(probe.command.text.contains("\"PGPORT\""))
        #expect(!probe.command.text.contains("PASSWORD"))
        #expect(!probe.command.text.contains("{{json .Config.Env}}"))
    }

    /// engine.env is sourced by a shell (`set -a; . ./engine.env`): a user or database name from
    /// botops.yml with a space, `$` or quote must reach bot-engine as one value, running nothing.
    @Test func namesWithShellCharactersAreSourcedAsOneValue() async throws {
        let probe = EngineDatabaseURL.Probe(container: "db", user: "bot user$(echo ran)", database: "it's;db")
        let line = try probe.parse("host||\n", succeeded: true).get().envLine
        #expect(line == "BOT_DATABASE_URL=postgres://bot%20user%24%28echo%20ran%29@127.0.0.1:5432/it%27s%3Bdb")
        let sourced = try await LocalHost().run("set -a; " + line + "; printf '%s' \"$BOT_DATABASE_URL\"")
        #expect(sourced.succeeded && sourced.stdoutText == String(line.dropFirst("BOT_DATABASE_URL=".count)), "\(sourced.stderrText)")
    }

    @Test func engineEnvIsCreatedMode600AndNeverReplaced() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("botops-engine-env-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let script = EngineEnvFile.createScript(line: "BOT_DATABASE_URL=postgres://u@127.0.0.1:1/d").text
        let run = { try await LocalHost().run("HOME=\(shellQuote(home.path)); export HOME; " + script) }
        let first = try await run()
        #expect(first.stdoutText == "created\n", "\(first.stderrText)")
        let file = home.appendingPathComponent("botops/engine.env").path
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try String(contentsOfFile: file, encoding: .utf8).hasSuffix("\nBOT_DATABASE_URL=postgres://u@127.0.0.1:1/d\n"))

        try "BOT_DATABASE_URL=mine\n".write(toFile: file, atomically: true, encoding: .utf8)
        let second = try await run()
        #expect(second.stdoutText == "kept\n")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "BOT_DATABASE_URL=mine\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: home.appendingPathComponent("botops").path) == ["engine.env"])
    }
}
