import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// `restore --tables` with views over the restored table, and names that need quoting on the command line.
extension BackupSandboxTests {
    /// Back as found, whatever happened: trade_strategy_link's own entries from the dump, by hand,
    /// when the table is missing.
    static func putBackLinkTable(from dump: String, scene: BackupSandbox) async throws {
        guard try await BackupSandbox.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'trade_strategy_link'") != "1" else { return }
        let list = scene.directory + "/link.list"
        try await BackupSandbox.sh("docker exec -i db pg_restore --list < \(shellQuote(dump)) | grep trade_strategy_link > \(shellQuote(list)) && docker cp \(shellQuote(list)) db:/tmp/link.list"
                                   + " && docker exec -i db pg_restore -L /tmp/link.list -U bot_user -d bot_trader_db < \(shellQuote(dump))")
    }

    @Test func viewsDroppedWithTheTableComeBackWithIt() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            let structure = try await Self.structure(of: "trade_strategy_link")
            try await BackupSandbox.psql("""
                CREATE VIEW botops_scratch_link_view AS SELECT order_id FROM trade_strategy_link;
                CREATE MATERIALIZED VIEW botops_scratch_link_counts AS SELECT count(*) AS n FROM trade_strategy_link;
                """)
            let first = try await scene.botops(["backup", "--no-verify", "--format", "json"], config: config)
            let record = try #require(BackupRecord.parse(first.stdoutText), "\(first.stderrText)")
            let dump = scene.directory + "/backups/" + record.id + ".dump"
            do {
                let counted = try await BackupSandbox.psql("SELECT n FROM botops_scratch_link_counts")
                try await BackupSandbox.psql("DROP TABLE trade_strategy_link CASCADE")
                let restored = try await scene.botops(["restore", record.id, "--tables", "trade_strategy_link", "--yes"], config: config)
                #expect(restored.termination == .exited(0), "\(restored.stderrText)")
                #expect(try await BackupSandbox.psql("SELECT count(*) FROM pg_class WHERE relname IN ('botops_scratch_link_view', 'botops_scratch_link_counts')") == "2",
                        "the view and the materialized view are back")
                #expect(try await BackupSandbox.psql("SELECT n FROM botops_scratch_link_counts") == counted, "the materialized view is filled as in the backup")
                #expect(try await Self.structure(of: "trade_strategy_link") == structure)
            } catch {
                Issue.record("\(error)")
            }
            try await Self.putBackLinkTable(from: dump, scene: scene)
            try await BackupSandbox.psql("DROP VIEW IF EXISTS botops_scratch_link_view; DROP MATERIALIZED VIEW IF EXISTS botops_scratch_link_counts")
        }
    }

    /// A view over a table that --replace sets aside follows the table (PostgreSQL keeps it on the
    /// renamed one): the result names it, since it does not read the restored table.
    @Test func aViewThatFollowedTheTableSetAsideIsNamedInTheResult() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            try await BackupSandbox.psql("""
                CREATE TABLE botops_scratch_followed (id int PRIMARY KEY);
                INSERT INTO botops_scratch_followed SELECT generate_series(1, 3);
                CREATE VIEW botops_scratch_follower AS SELECT id FROM botops_scratch_followed;
                """)
            do {
                let first = try await scene.botops(["backup", "--no-verify", "--format", "json"], config: config)
                let record = try #require(BackupRecord.parse(first.stdoutText), "\(first.stderrText)")
                let restored = try await scene.botops(["restore", record.id, "--tables", "botops_scratch_followed", "--replace", "--yes"], config: config)
                #expect(restored.termination == .exited(0), "\(restored.stderrText)")
                #expect(restored.stdoutText.contains("warning: the view botops_scratch_follower still reads public.botops_scratch_followed_replaced_"), "\(restored.stdoutText)")
            } catch {
                Issue.record("\(error)")
            }
            try await BackupSandbox.psql("DROP VIEW IF EXISTS botops_scratch_follower")
            for table in try await BackupSandbox.psql(#"SELECT tablename FROM pg_tables WHERE tablename LIKE 'botops\_scratch\_followed%'"#).split(separator: "\n") {
                try await BackupSandbox.dropScratchTable(String(table))
            }
        }
    }

    /// `"My Schema"."Trade Links"` on the command line: parsed, found in the dump, every statement quoted.
    @Test func tablesNamedWithSpacesQuotesAndUpperCaseAreRestored() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            try await BackupSandbox.psql("""
                CREATE SCHEMA "My Schema";
                CREATE TABLE "My Schema"."Trade Links" (id int PRIMARY KEY, "Note" text);
                CREATE INDEX "Trade Links by note" ON "My Schema"."Trade Links" ("Note");
                CREATE TABLE "My Schema"."Q""uote, it's" (id int PRIMARY KEY REFERENCES "My Schema"."Trade Links" (id));
                INSERT INTO "My Schema"."Trade Links" SELECT g, 'n' || g FROM generate_series(1, 5) g;
                INSERT INTO "My Schema"."Q""uote, it's" VALUES (1), (2);
                """)
            do {
                let first = try await scene.botops(["backup", "--no-verify", "--format", "json"], config: config)
                let record = try #require(BackupRecord.parse(first.stdoutText), "\(first.stderrText)")
                try await BackupSandbox.psql(#"DROP TABLE "My Schema"."Q""uote, it's", "My Schema"."Trade Links""#)
                let tables = #""My Schema"."Trade Links", "My Schema"."Q""uote, it's""#
                let restored = try await scene.botops(["restore", record.id, "--tables", tables, "--yes"], config: config)
                #expect(restored.termination == .exited(0), "\(restored.stderrText)")
                #expect(restored.stdoutText.contains("My Schema.Trade Links: 5 rows restored"), "\(restored.stdoutText)")
                #expect(try await BackupSandbox.psql(#"SELECT count(*) FROM "My Schema"."Q""uote, it's" JOIN "My Schema"."Trade Links" USING (id)"#) == "2")
                #expect(try await BackupSandbox.psql(#"SELECT count(*) FROM pg_indexes WHERE schemaname = 'My Schema'"#) == "3", "both keys and the index")
                let bad = try await scene.botops(["restore", record.id, "--tables", #""My Schema"."unclosed"#, "--yes"], config: config)
                #expect(bad.termination == .exited(2) && bad.stderrText.contains("unclosed quote"), "\(bad.stderrText)")
            } catch {
                Issue.record("\(error)")
            }
            _ = try await BackupSandbox.psql(#"DROP SCHEMA "My Schema" CASCADE"#)
        }
    }
}
