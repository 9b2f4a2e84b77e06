import Foundation
import Postgres
import Remote
import SandboxSupport
import Testing

/// bot-engine used as the host's cron jobs and the sandbox use it.
@Suite(.enabled(if: Sandbox.isAvailable, "needs the sandbox's PostgreSQL: scripts/sandbox up"))
struct BotEngineCLITests {
    @Test func migrateRecordAllocateLinkageAndReport() async throws {
        try await TestDatabase.with { db, database async throws in
            let engine = BuiltBinary.botEngine
            let url = ["--database-url", database.url]
            let migrated = try await engine.run(["migrate"] + url)
            #expect(migrated.stdoutText == "applied migrations 1, 2, 20\n", "\(migrated.stderrText)")
            #expect(try await engine.run(["migrate"] + url).stdoutText == "schema up to date\n")

            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("fills.csv").path
            try """
                order_id,symbol,side,order_time,price,size,fees
                b1,BTC-USD,buy,2026-01-05T10:00:00Z,100,2,2
                s1,BTC-USD,sell,2026-01-05T11:00:00Z,110,1,1
                """.write(toFile: file, atomically: true, encoding: .utf8)
            let recorded = try await engine.run(["record", file] + url)
            #expect(recorded.stdoutText == "recorded 2 fills (0 already present), linked 0\n")
            let allocated = try await engine.run(["allocate"] + url)
            #expect(allocated.stdoutText == "1 allocations, realised P&L 8.00000000\n")

            let report = try await engine.run(["report", "weekly", "--out", directory.path] + url)
            #expect(report.termination == .exited(0))
            #expect(report.stdoutText.hasPrefix("Report written: \(directory.path)/weekly_review_"))
        }
    }

    /// A ledger the user's bot created: plain migrate refuses (4) naming --adopt, the dry run
    /// plans, adoption records the baseline; an incompatible column is refused (4).
    @Test func migrateAdoptsTheBotsOwnLedger() async throws {
        try await TestDatabase.with { db, database async throws in
            let engine = BuiltBinary.botEngine
            let url = ["--database-url", database.url]
            try await db.execute(script: """
                CREATE TABLE trade_records (order_id varchar(64) PRIMARY KEY, symbol varchar(20) NOT NULL, side varchar(4) NOT NULL,
                    order_time timestamptz NOT NULL, price numeric NOT NULL, size numeric NOT NULL, status varchar(20) NOT NULL);
                INSERT INTO trade_records VALUES ('b1', 'BTC-USD', 'buy', now() - interval '1 hour', 100, 1, 'filled');
                """)
            let refused = try await engine.run(["migrate"] + url)
            #expect(refused.termination == .exited(4))
            #expect(refused.stderrText.contains("bot-engine migrate --adopt --dry-run"), "\(refused.stderrText)")
            let dryRun = try await engine.run(["migrate", "--adopt", "--dry-run"] + url)
            #expect(dryRun.termination == .exited(0), "\(dryRun.stderrText)")
            #expect(dryRun.stdoutText.hasPrefix("existing tables: trade_records\nchanges (nothing dropped, renamed or rewritten):\n"))
            #expect(dryRun.stdoutText.contains("  - add column trade_records.fees (numeric(20,8)) DEFAULT 0 NOT NULL: existing rows read 0\n"))
            #expect(dryRun.stdoutText.hasSuffix("dry run: nothing was changed\n"))
            let adopted = try await engine.run(["migrate", "--adopt"] + url)
            #expect(adopted.stdoutText.hasSuffix("adopted: migrations 1, 2 recorded as the baseline; applied migrations 20\n"), "\(adopted.stderrText)")
            #expect(try await engine.run(["migrate"] + url).stdoutText == "schema up to date\n")
            #expect(try await engine.run(["migrate", "--adopt"] + url).stdoutText
                    == "the ledger is already bot-engine's (schema_migrations exists): nothing to adopt\nschema up to date\n")
            #expect(try await engine.run(["linkage"] + url).stdoutText == "total_trades 1  linked_trades 0  linkage_pct 0.0%  late_links 0\n")
            #expect(try await engine.run(["bars", "prune", "--keep", "1m=365d", "--dry-run"] + url).stdoutText == "would delete 0 bars\n")
            #expect(try await engine.run(["bars", "prune", "--keep", "1m=365"] + url).termination == .exited(64))

            try await db.execute(script: "DROP TABLE schema_migrations; ALTER TABLE trade_records ALTER COLUMN order_time TYPE timestamp")
            let incompatible = try await engine.run(["migrate", "--adopt", "--dry-run"] + url)
            #expect(incompatible.termination == .exited(4))
            #expect(incompatible.stderrText.contains("trade_records.order_time is timestamp without time zone; the engine needs timestamp with time zone"),
                    "\(incompatible.stderrText)")
        }
    }

    /// The shipped bars-prune cron line, run as Debian's cron runs it (`/bin/sh -c`, HOME set, log
    /// redirected to a scratch directory): without ~/botops/engine.env or the installed bot-engine it
    /// fails and says in its log what is missing; with them it prunes the ledger BOT_DATABASE_URL names.
    @Test func theBarsPruneCronLineRunsUnderShAndSaysWhatIsMissing() async throws {
        try await TestDatabase.with { db, database async throws in
            #expect(try await BuiltBinary.botEngine.run(["migrate", "--database-url", database.url]).succeeded)
            let cronFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("crontab.d/bars-prune.cron")
            let schedule = try String(contentsOf: cronFile, encoding: .utf8).split(separator: "\n")
                .first { !$0.hasPrefix("#") && !$0.hasPrefix("CRON_TZ=") && !$0.isEmpty }!
            let command = schedule.split(separator: " ", maxSplits: 5)[5]
            #expect(!command.contains("%"), "an unescaped % ends a cron command")
            let home = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: home) }
            let log = home.appendingPathComponent("bars_prune_cron.log")
            let script = command.replacing("/opt/bot/logs/bars_prune_cron.log", with: log.path)
            #expect(script != command)
            func fire() async throws -> CommandResult {
                try await LocalHost().run(shellCommand(["env", "-i", "HOME=\(home.path)", "PATH=/usr/bin:/bin", "/bin/sh", "-c", String(script)]),
                                          timeout: .seconds(60))
            }
            func logText() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

            let noDirectory = try await fire()
            #expect(noDirectory.termination != .exited(0))
            #expect(logText().contains("bars-prune: \(home.path)/botops/engine.env is missing"), "\(logText())")
            let botops = home.appendingPathComponent("botops")
            try FileManager.default.createDirectory(at: botops.appendingPathComponent("bin"), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: botops.appendingPathComponent("bin/bot-engine").path,
                                                       withDestinationPath: BuiltBinary.botEngine.path)
            try? FileManager.default.removeItem(at: log)
            let noEnvironment = try await fire()
            #expect(noEnvironment.termination != .exited(0))
            #expect(logText().contains("engine.env is missing: write BOT_DATABASE_URL=postgres://"), "\(logText())")

            try "BOT_DATABASE_URL='\(database.url)'\n".write(to: botops.appendingPathComponent("engine.env"), atomically: true, encoding: .utf8)
            let pruned = try await fire()
            #expect(pruned.termination == .exited(0), "\(logText())")
            #expect(logText().hasSuffix("deleted 0 bars\n"), "\(logText())")
        }
    }

    /// Adoption stopped after its additive changes (a unique index meets a second active snapshot
    /// the bot committed meanwhile): exit 5, the database is changed, and stderr says how to resume.
    @Test func anAdoptionStoppedMidwayExitsFive() async throws {
        try await TestDatabase.with { db, database async throws in
            let engine = BuiltBinary.botEngine
            let url = ["--database-url", database.url]
            #expect(try await engine.run(["migrate"] + url).succeeded)
            try await db.execute(script: """
                DROP TABLE schema_migrations, backtest_equity, backtest_trades, backtest_runs;
                DROP INDEX strategy_snapshots_one_active;
                INSERT INTO strategy_snapshots (config, config_hash) VALUES ('{}', 'h1');
                """)
            let bot = try await database.connect()
            try await bot.query("BEGIN")
            try await bot.query("INSERT INTO strategy_snapshots (config, config_hash) VALUES ('{}', 'h2')")
            let adopting = Task { try await engine.run(["migrate", "--adopt"] + url) }
            for _ in 0..<1000 {
                let waiting = try await db.query("""
                    SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
                    """).rows[0].int(0)
                if waiting > 0 { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            try await bot.query("COMMIT")
            await bot.close()
            let stopped = try await adopting.value
            #expect(stopped.termination == .exited(5))
            #expect(stopped.stderrText.hasPrefix("Error: adoption stopped at 'create unique index strategy_snapshots_one_active"), "\(stopped.stderrText)")
        }
    }

    @Test func aBadRecordIsNamedAndNothingIsWritten() async throws {
        try await TestDatabase.with { db, database async throws in
            let engine = BuiltBinary.botEngine
            _ = try await engine.run(["migrate", "--database-url", database.url])
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("fills.jsonl").path
            try """
                {"order_id":"a","symbol":"BTC-USD","side":"buy","order_time":"2026-01-05T10:00:00Z","price":"1","size":"1"}
                {"order_id":"b","symbol":"BTC-USD","side":"buy","order_time":"2026-01-05T10:00:00Z","price":"0","size":"1"}
                """.write(toFile: file, atomically: true, encoding: .utf8)
            let result = try await engine.run(["record", file, "--database-url", database.url])
            #expect(result.termination != .exited(0))
            #expect(result.stderrText.contains("record 2: field 'price': must be greater than 0"))
            let count = try await db.query("SELECT count(*) FROM trade_records")
            #expect(try count.rows[0].int(0) == 0)
        }
    }

    @Test func wrongPasswordIsExplainedWithoutShowingIt() async throws {
        let url = try TestDatabase.serverURL
        let password = try #require(URLComponents(string: url)?.password)
        let result = try await BuiltBinary.botEngine.run(["migrate"], environment: ["BOT_DATABASE_URL": url.replacing(password, with: "wrong-\(password)")])
        #expect(result.termination != .exited(0))
        #expect(result.stderrText.contains("password authentication failed"))
        #expect(!result.stderrText.contains(password))
    }

    @Test func theServicesDatabaseURLVariableIsReadAfterTheOthers() async throws {
        try await TestDatabase.with { db, database async throws in
            let engine = BuiltBinary.botEngine
            let fromServices = try await engine.run(["migrate"], environment: ["BOT_DATABASE_URL": "", "DATABASE_URL": database.url])
            #expect(fromServices.stdoutText == "applied migrations 1, 2, 20\n", "\(fromServices.stderrText)")
            let nowhere = "postgres://nobody@127.0.0.1:1/none"
            let botWins = try await engine.run(["migrate"], environment: ["BOT_DATABASE_URL": database.url, "DATABASE_URL": nowhere])
            #expect(botWins.stdoutText == "schema up to date\n", "\(botWins.stderrText)")
            let flagWins = try await engine.run(["migrate", "--database-url", database.url], environment: ["BOT_DATABASE_URL": nowhere])
            #expect(flagWins.stdoutText == "schema up to date\n", "\(flagWins.stderrText)")
        }
    }

    /// A database migrated by bot-engine and a scratch directory, removed afterwards; `url` holds
    /// the --database-url arguments.
    func withMigratedDatabase(_ body: (PostgresConnection, [String], URL) async throws -> Void) async throws {
        try await TestDatabase.with { db, database async throws in
            let url = ["--database-url", database.url]
            _ = try await BuiltBinary.botEngine.run(["migrate"] + url)
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            try await body(db, url, directory)
        }
    }

    @Test func metadataWithAnUnknownSnapshotOrABadScoreIsRefused() async throws {
        try await withMigratedDatabase { db, url, _ async throws in
            let engine = BuiltBinary.botEngine
            let snapshot = try await engine.run(["snapshot", "activate", "--config", "{}"] + url).stdoutText
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let unknown = UUID().uuidString.lowercased()
            let refused = try await engine.run(["metadata", "cache", "--order-id", "o1", "--snapshot-id", unknown] + url)
            #expect(refused.termination != .exited(0))
            #expect(refused.stderrText.contains("there is no snapshot \(unknown)"), "\(refused.stderrText)")
            let badScore = try await engine.run(["metadata", "cache", "--order-id", "o1", "--snapshot-id", snapshot, "--buy-score", "high"] + url)
            #expect(badScore.termination != .exited(0))
            #expect(badScore.stderrText.contains("--buy-score: 'high' is not a decimal number"), "\(badScore.stderrText)")
            let count = try await db.query("SELECT count(*) FROM strategy_metadata_cache")
            #expect(try count.rows[0].int(0) == 0)
            let accepted = try await engine.run(["metadata", "cache", "--order-id", "o1", "--snapshot-id", snapshot, "--buy-score", "1e-2"] + url)
            #expect(accepted.termination == .exited(0), "\(accepted.stderrText)")
        }
    }

    @Test func pricesBeyondSixtyFourBitsRecordAndAllocate() async throws {
        try await withMigratedDatabase { db, url, directory async throws in
            let engine = BuiltBinary.botEngine
            let file = directory.appendingPathComponent("fills.jsonl").path
            try """
                {"order_id":"b1","symbol":"BTC-USD","side":"buy","order_time":"2026-01-05T10:00:00Z","price":10000000,"size":10000}
                {"order_id":"s1","symbol":"BTC-USD","side":"sell","order_time":"2026-01-05T11:00:00Z","price":92233720368.99999999,"size":10000}
                """.write(toFile: file, atomically: true, encoding: .utf8)
            let recorded = try await engine.run(["record", file] + url)
            #expect(recorded.stdoutText == "recorded 2 fills (0 already present), linked 0\n", "\(recorded.stderrText)")
            let allocated = try await engine.run(["allocate"] + url)
            #expect(allocated.stdoutText == "1 allocations, realised P&L 922237203689999.99990000\n", "\(allocated.stderrText)")

            try #"{"order_id":"b2","symbol":"BTC-USD","side":"buy","order_time":"2026-01-05T10:00:00Z","price":1e12,"size":1}"#
                .write(toFile: file, atomically: true, encoding: .utf8)
            let tooBig = try await engine.run(["record", file] + url)
            #expect(tooBig.termination != .exited(0))
            #expect(tooBig.stderrText.contains("record 1: field 'price': '1e12' is beyond ±999999999999.99999999"), "\(tooBig.stderrText)")
        }
    }

    @Test func ingestBarsReplacesReCollectedBarsUnlessToldToKeepThem() async throws {
        try await withMigratedDatabase { db, url, directory async throws in
            let engine = BuiltBinary.botEngine
            let file = directory.appendingPathComponent("bars.csv").path
            func write(close: String) throws {
                try "symbol,timeframe,ts,open,high,low,close,volume\nBTC-USD,1m,2026-01-01T00:00:00Z,1,2,0.5,\(close),100\n"
                    .write(toFile: file, atomically: true, encoding: .utf8)
            }
            try write(close: "1.5")
            #expect(try await engine.run(["ingest-bars", file] + url).stdoutText == "ingested 1 new bars, replaced 0, 0 unchanged\n")
            try write(close: "1.6")
            #expect(try await engine.run(["ingest-bars", "--keep-existing", file] + url).stdoutText
                    == "ingested 0 new bars, kept 1 already stored\n")
            #expect(try await engine.run(["ingest-bars", file] + url).stdoutText == "ingested 0 new bars, replaced 1, 0 unchanged\n")
            let close = try await db.query("SELECT close::text FROM market_bars")
            #expect(try close.rows[0].string(0) == "1.60000000")
        }
    }

    /// Two Latin-1 order ids used to decode to the same text, and the second fill was skipped as
    /// "already present"; a byte order mark made the header's first field unknown.
    @Test func recordReadsBytesStrictly() async throws {
        try await withMigratedDatabase { db, url, directory async throws in
            let engine = BuiltBinary.botEngine
            let file = directory.appendingPathComponent("fills.csv")
            let header = Array("order_id,symbol,side,order_time,price,size\n".utf8)
            let rows = Array("id".utf8) + [0xE9] + Array(",BTC-USD,buy,2026-01-05T00:00:00Z,1,1\nid".utf8) + [0xE8]
                + Array(",BTC-USD,buy,2026-01-05T00:00:00Z,2,1\n".utf8)
            try Data(header + rows).write(to: file)
            let refused = try await engine.run(["record", file.path] + url)
            #expect(refused.termination != .exited(0))
            #expect(refused.stderrText.contains("record 1: field 1 is not UTF-8 text"), "\(refused.stderrText)")
            #expect(try await db.query("SELECT count(*) FROM trade_records").rows[0].int(0) == 0)

            try Data([0xEF, 0xBB, 0xBF] + header + Array("a,BTC-USD,buy,2026-01-05T00:00:00Z,1,1\n".utf8)).write(to: file)
            let withMark = try await engine.run(["record", file.path] + url)
            #expect(withMark.stdoutText == "recorded 1 fills (0 already present), linked 0\n", "\(withMark.stderrText)")
        }
    }

    /// `--ttl 0` cached metadata expired on arrival and an order id longer than any fill's was kept
    /// (neither could ever link); a TTL or window beyond 32 bits ended in a raw SQL error.
    @Test func metadataAndLinkageOptionsOutsideTheirRangeAreRefused() async throws {
        try await withMigratedDatabase { db, url, _ async throws in
            let engine = BuiltBinary.botEngine
            let snapshot = try await engine.run(["snapshot", "activate", "--config", "{}"] + url).stdoutText
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let cache = ["metadata", "cache", "--snapshot-id", snapshot]
            for (arguments, message) in [(["--order-id", "o1", "--ttl=0"], "--ttl: must be between 1 and 2147483647 seconds"),
                                         (["--order-id", "o1", "--ttl=99999999999"], "--ttl: must be between 1 and 2147483647 seconds"),
                                         (["--order-id", String(repeating: "x", count: 129)], "--order-id: longer than 128 characters")] {
                let refused = try await engine.run(cache + arguments + url)
                #expect(refused.termination != .exited(0))
                #expect(refused.stderrText.contains(message), "\(refused.stderrText)")
            }
            #expect(try await db.query("SELECT count(*) FROM strategy_metadata_cache").rows[0].int(0) == 0)
            for hours in ["0", "99999999999"] {
                let refused = try await engine.run(["linkage", "--hours", hours] + url)
                #expect(refused.stderrText.contains("--hours: must be between 1 and 1000000"), "\(refused.stderrText)")
            }
        }
    }
}
