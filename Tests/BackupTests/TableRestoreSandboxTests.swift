import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// `botops restore BACKUP --tables …` on the sandbox's real db container.
extension BackupSandboxTests {
    /// A table's indexes, constraints and grants, as the catalogue defines them.
    static func structure(of table: String) async throws -> String {
        let name = "'" + table + "'"
        return try await BackupSandbox.psql("""
            SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE tablename = \(name)
            UNION ALL SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = \(name)::regclass
            UNION ALL SELECT 'grant ' || grantee || ' ' || privilege_type FROM information_schema.role_table_grants WHERE table_name = \(name)
            UNION ALL SELECT 'column ' || column_name || ' ' || data_type || ' ' || coalesce(column_default, '') FROM information_schema.columns WHERE table_name = \(name)
            ORDER BY 1
            """)
    }

    @Test func aDroppedTableComesBackWithItsConstraintsAndIndexesAndATableWithRowsIsRefused() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            let structure = try await Self.structure(of: "trade_strategy_link")
            try #require(structure.contains("constraint trade_strategy_link_pkey") && structure.contains("index trade_strategy_link_time"), "\(structure)")
            let first = try await scene.botops(["backup", "--format", "json"], config: config)
            let record = try #require(BackupRecord.parse(first.stdoutText), "\(first.stderrText)")
            let recorded = try #require(record.tables.first { $0.name == "trade_strategy_link" })
            let dump = scene.directory + "/backups/" + record.id + ".dump"
            do {
                try await BackupSandbox.psql("DROP TABLE trade_strategy_link")
                let plan = try await scene.botops(["restore", record.id, "--tables", "trade_strategy_link"], config: config)
                #expect(plan.termination == .exited(4), "\(plan.stderrText)")
                #expect(plan.stdoutText.contains("index trade_strategy_link_time") && plan.stdoutText.contains("fk constraint trade_strategy_link trade_strategy_link_order_id_fkey"),
                        "\(plan.stdoutText)")

                let restored = try await scene.botops(["restore", record.id, "--tables", "trade_strategy_link", "--yes"], config: config)
                #expect(restored.termination == .exited(0), "\(restored.stderrText)")
                #expect(restored.stdoutText.contains("public.trade_strategy_link: \(recorded.rows) rows restored, figures equal the record"), "\(restored.stdoutText)")
                #expect(try await Self.structure(of: "trade_strategy_link") == structure, "the key, foreign keys, index and grants are back as they were")
                let audit = try await BackupSandbox.sh("tail -n 1 ~bot/.botops/audit.jsonl")
                #expect(audit.contains(#""action":"restore""#) && audit.contains(#""result":"success""#) && audit.contains("--tables"), "\(audit)")

                // Now the table has rows again: refused without --replace, and nothing changes.
                let refused = try await scene.botops(["restore", "latest", "--tables", "trade_strategy_link", "--yes"], config: config)
                #expect(refused.termination == .exited(4), "\(refused.stderrText)")
                #expect(refused.stderrText.contains("public.trade_strategy_link still has"), "\(refused.stderrText)")
                let unknown = try await scene.botops(["restore", "latest", "--tables", "no_such_table", "--yes"], config: config)
                #expect(unknown.termination == .exited(2) && unknown.stderrText.contains("the backup has no table public.no_such_table"), "\(unknown.stderrText)")
            } catch {
                Issue.record("restore --tables failed: \(error)")
            }
            try await Self.putBackLinkTable(from: dump, scene: scene)
            #expect(try await Self.structure(of: "trade_strategy_link") == structure)
        }
    }

    @Test func replaceSetsAsideATableWithRowsAndItsNamesAndMovesAnotherTablesForeignKey() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            let scratch = "botops_scratch_parent"
            try await BackupSandbox.psql("""
                CREATE TABLE \(scratch) (id serial PRIMARY KEY, note text UNIQUE, amount numeric CHECK (amount >= 0));
                CREATE INDEX \(scratch)_lower ON \(scratch) (lower(note));
                CREATE TABLE botops_scratch_child (parent_id int REFERENCES \(scratch) (id));
                INSERT INTO \(scratch) (note, amount) SELECT 'n' || g, g FROM generate_series(1, 5) g;
                INSERT INTO botops_scratch_child VALUES (1), (2);
                """)
            do {
                let structure = try await Self.structure(of: scratch)
                let first = try await scene.botops(["backup", "--format", "json"], config: config)
                let record = try #require(BackupRecord.parse(first.stdoutText), "\(first.stderrText)")
                let recorded = try #require(record.tables.first { $0.name == scratch })
                try await BackupSandbox.psql("INSERT INTO \(scratch) (note, amount) SELECT 'later' || g, g FROM generate_series(1, 3) g")

                let refused = try await scene.botops(["restore", record.id, "--tables", scratch, "--yes"], config: config)
                #expect(refused.termination == .exited(4), "\(refused.stderrText)")
                #expect(refused.stderrText.contains("public.\(scratch) still has 8 rows") && refused.stderrText.contains("--replace"), "\(refused.stderrText)")
                let dry = try await scene.botops(["restore", record.id, "--tables", scratch, "--replace", "--dry-run"], config: config)
                #expect(dry.termination == .exited(0), "\(dry.stderrText)")
                #expect(dry.stdoutText.contains("rename public.\(scratch) (8 rows) → public.\(scratch)_replaced_"), "\(dry.stdoutText)")
                #expect(dry.stdoutText.contains("move the foreign key botops_scratch_child_parent_id_fkey of public.botops_scratch_child"), "\(dry.stdoutText)")
                #expect(try await BackupSandbox.psql("SELECT count(*) FROM \(scratch)") == "8", "a dry run changes nothing")

                let replaced = try await scene.botops(["restore", record.id, "--tables", scratch, "--replace", "--yes"], config: config)
                #expect(replaced.termination == .exited(0), "\(replaced.stderrText)")
                #expect(replaced.stdoutText.contains("public.\(scratch): 5 rows restored, figures equal the record"), "\(replaced.stdoutText)")
                #expect(try await BackupSandbox.liveFigures().first { $0.name == scratch } == recorded)
                #expect(try await Self.structure(of: scratch) == structure, "the restored table has its own names for its key, unique constraint and index")
                let aside = try await BackupSandbox.psql(#"SELECT tablename FROM pg_tables WHERE tablename LIKE 'botops\_scratch\_parent\_replaced\_%'"#)
                #expect(!aside.isEmpty && replaced.stdoutText.contains(aside), "\(aside)")
                if !aside.isEmpty {
                    #expect(try await BackupSandbox.psql("SELECT count(*) FROM \(aside)") == "8", "the set-aside table keeps every row")
                    let names = try await BackupSandbox.psql("SELECT string_agg(relname, ' ' ORDER BY relname) FROM pg_class WHERE relname LIKE '%\\_replaced\\_%' AND relname LIKE 'botops\\_scratch%'")
                    #expect(names.contains(scratch + "_pkey_replaced_") && names.contains(scratch + "_id_seq_replaced_") && names.contains(scratch + "_lower_replaced_"), "\(names)")
                }
                #expect(try await BackupSandbox.psql("SELECT confrelid::regclass FROM pg_constraint WHERE conrelid = 'botops_scratch_child'::regclass AND contype = 'f'") == scratch,
                        "the other table's foreign key points at the restored table")
                #expect(try await BackupSandbox.psql("INSERT INTO \(scratch) (note) VALUES ('next') RETURNING id").hasPrefix("6"), "the owned sequence came back at the backup's value")
            } catch {
                Issue.record("restore --tables --replace failed: \(error)")
            }
            let aside = try await BackupSandbox.psql(#"SELECT string_agg(tablename, ', ') FROM pg_tables WHERE tablename LIKE 'botops\_scratch\_parent\_replaced\_%'"#)
            try await BackupSandbox.psql("DROP TABLE IF EXISTS botops_scratch_child, \(scratch)" + (aside.isEmpty ? "" : ", " + aside))
        }
    }
}

extension BackupSandboxTests {
    @Test func downloadThroughSSHArrivesByteIdenticalWithItsRecord() async throws {
        try await BackupSandbox.scene { scene in
            let local = scene.directory + "/on the operator's $machine"
            let result = try await scene.botops(["backup", "--no-verify", "--format", "json", "--download", local])
            #expect(result.termination == .exited(0), "\(result.stderrText)")
            let record = try #require(BackupRecord.parse(result.stdoutText), "\(result.stderrText)")
            #expect(scene.files(in: local) == [record.id + ".dump", record.id + ".json", record.id + ".roles.sql"])
            let remote = scene.directory + "/backups/" + record.id
            #expect(FileManager.default.contents(atPath: local + "/" + record.id + ".dump") == FileManager.default.contents(atPath: remote + ".dump"))
            #expect(FileManager.default.contents(atPath: local + "/" + record.id + ".roles.sql") == FileManager.default.contents(atPath: remote + ".roles.sql"))
            #expect(FileManager.default.contents(atPath: local + "/" + record.id + ".json") == FileManager.default.contents(atPath: remote + ".json"))
        }
    }
}

extension BackupSandboxTests {
    @Test func pushRunsWithQuotedPathsAndItsFailureWarnsAndKeepsTheBackup() async throws {
        try await BackupSandbox.scene { scene in
            let dir = scene.directory + "/back up $HOME"
            let pushed = scene.directory + "/pushed"
            try await BackupSandbox.sh("mkdir \(shellQuote(pushed)) && chown bot:bot \(shellQuote(pushed))")
            let config = try scene.config(dir: dir)
            // The README's shape for a tool that takes its destination last (rsync, scp).
            try "  push: sh -c 'cp -- \"$@\" \(pushed)/' push\n".appendToFile(config)
            let first = try await scene.botops(["backup", "--format", "json"], config: config)
            #expect(first.termination == .exited(0), "\(first.stderrText)")
            let record = try #require(BackupRecord.parse(first.stdoutText), "\(first.stderrText)")
            #expect(record.pushed == true)
            #expect(scene.files(in: pushed) == [record.id + ".dump", record.id + ".json", record.id + ".roles.sql"], "the roles too: restore --test needs them")
            #expect(FileManager.default.contents(atPath: pushed + "/" + record.id + ".dump") == FileManager.default.contents(atPath: dir + "/" + record.id + ".dump"))

            let failing = try scene.config(dir: dir)
            try "  push: ls /nonexistent-botops-push\n".appendToFile(failing)
            let second = try await scene.botops(["backup", "--label", "second", "--format", "json"], config: failing)
            #expect(second.termination == .exited(0), "\(second.stderrText)")
            #expect(second.stderrText.contains("warning: backup.push ended with") && second.stderrText.contains("nonexistent-botops-push"), "\(second.stderrText)")
            let kept = try #require(BackupRecord.parse(second.stdoutText))
            #expect(kept.pushed == false && scene.files(in: dir).contains(kept.id + ".dump"))
            let listed = try await scene.botops(["backups"], config: failing)
            let line = try #require(listed.stdoutText.split(separator: "\n").first { $0.contains(kept.id) })
            #expect(line.contains("FAILED"), "\(listed.stdoutText)")
        }
    }
}

extension BackupSandboxTests {
    @Test func hostFilesArchiveLogsAndEnvBesideTheDumpMode600AndTheRecordNamesIt() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            try "  host_files: true\n".appendToFile(config)
            let result = try await scene.botops(["backup", "--no-verify", "--format", "json"], config: config)
            #expect(result.termination == .exited(0), "\(result.stderrText)")
            let record = try #require(BackupRecord.parse(result.stdoutText), "\(result.stderrText)")
            let archive = try #require(record.hostFiles)
            #expect(archive == record.id + ".host-files.tar.gz")
            let path = scene.directory + "/backups/" + archive
            #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) == 0o600)
            let listed = try await BackupSandbox.sh("tar -tzf \(shellQuote(path)) | sort")
            #expect(listed.split(separator: "\n").contains(".env") && listed.split(separator: "\n").contains("logs/"), "\(listed)")
            #expect(try await BackupSandbox.sh("tar -xzOf \(shellQuote(path)) .env | sha256sum") == (try await BackupSandbox.sh("sha256sum < /opt/bot/.env")))
            #expect(!result.stdoutText.contains("fake-secret-do-not-print") && !result.stderrText.contains("fake-secret-do-not-print"))
        }
    }
}

extension BackupSandboxTests {
    /// A schema and table whose names need quoting (mixed case; a space, `$$` and a quote): found in
    /// the dump, set aside and restored, another table's foreign key moved.
    @Test func replaceRestoresATableWhoseNamesNeedQuoting() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            try await BackupSandbox.psql("""
                CREATE SCHEMA "BotopsOdd";
                CREATE TABLE "BotopsOdd"."Odd $$Na'me" (id serial PRIMARY KEY, v text);
                CREATE TABLE "BotopsOdd".child (pid int REFERENCES "BotopsOdd"."Odd $$Na'me" (id));
                INSERT INTO "BotopsOdd"."Odd $$Na'me" (v) VALUES ('a'), ('b');
                INSERT INTO "BotopsOdd".child VALUES (1);
                """)
            do {
                let first = try await scene.botops(["backup", "--no-verify", "--format", "json"], config: config)
                let record = try #require(BackupRecord.parse(first.stdoutText), "\(first.stderrText)")
                try await BackupSandbox.psql(#"INSERT INTO "BotopsOdd"."Odd $$Na'me" (v) VALUES ('later')"#)
                let replaced = try await scene.botops(["restore", record.id, "--tables", "BotopsOdd.Odd $$Na'me", "--replace", "--yes"], config: config)
                #expect(replaced.termination == .exited(0), "\(replaced.stderrText)\(replaced.stdoutText)")
                #expect(try await BackupSandbox.psql(#"SELECT count(*) FROM "BotopsOdd"."Odd $$Na'me""#) == "2")
                #expect(try await BackupSandbox.psql(#"SELECT string_agg(relname || ' ' || n_live_tup, ',') FROM pg_stat_user_tables WHERE schemaname = 'BotopsOdd' AND relname LIKE '%replaced%'"#)
                    .hasPrefix("Odd $$Na'me_replaced_"))
                #expect(try await BackupSandbox.psql(#"SELECT confrelid::regclass FROM pg_constraint WHERE conrelid = '"BotopsOdd".child'::regclass AND contype = 'f'"#)
                        == #""BotopsOdd"."Odd $$Na'me""#)
            } catch {
                Issue.record("restore --tables of a quoted name failed: \(error)")
            }
            _ = try await BackupSandbox.psql(#"DROP SCHEMA "BotopsOdd" CASCADE"#)
        }
    }

    /// Rows written between the plan's count and the restore: without --replace the transaction
    /// counts again under the table's lock and refuses, so a table with rows is never set aside
    /// without being asked to.
    @Test func rowsWrittenAfterThePlanRefuseTheRestoreInsideItsTransaction() async throws {
        try await BackupSandbox.scene { scene in
            let configPath = try scene.config()
            let scratch = "botops_scratch_race"
            try await BackupSandbox.psql("CREATE TABLE \(scratch) (id serial PRIMARY KEY, v text)")
            do {
                let first = try await scene.botops(["backup", "--no-verify", "--format", "json"], config: configPath)
                let record = try #require(BackupRecord.parse(first.stdoutText), "\(first.stderrText)")
                let config = try BotOpsConfig.load(path: configPath)
                let host = try await SSHConnection.connect(to: try scene.sandbox.target())
                try await host.closing {
                    let entry = try #require(try await BackupCatalog(config: config, runner: host).entries().first { $0.record.id == record.id })
                    let job = TableRestore(config: config, runner: host)
                    let plan = try await job.plan(entry, tables: [.init(parsing: scratch)], replace: false)
                    #expect(plan.present[.init(parsing: scratch)] == 0, "empty when counted")
                    try await BackupSandbox.psql("INSERT INTO \(scratch) (v) VALUES ('written after the count')")
                    let error = await #expect(throws: RestoreError.self) { try await job.run(plan) }
                    #expect(error?.exitCode == .refused, "\(String(describing: error))")
                    #expect(error?.description.contains("public.\(scratch) has 1 rows now") == true, "\(String(describing: error))")
                }
                #expect(try await BackupSandbox.psql("SELECT count(*) FROM \(scratch)") == "1", "the row stays where it was written")
                #expect(try await BackupSandbox.psql(#"SELECT count(*) FROM pg_tables WHERE tablename LIKE 'botops\_scratch\_race\_replaced%'"#) == "0")
            } catch {
                Issue.record("\(error)")
            }
            let aside = try await BackupSandbox.psql(#"SELECT string_agg(tablename, ', ') FROM pg_tables WHERE tablename LIKE 'botops\_scratch\_race%'"#)
            _ = try await BackupSandbox.psql("DROP TABLE IF EXISTS \(aside)")
        }
    }

    /// Ctrl-C while the rows are copied in: the restore's session on the host is ended, so its
    /// transaction rolls back; nothing goes on committing there after botops has exited.
    @Test func anInterruptedTableRestoreRollsBackOnTheHostInsteadOfCommittingLater() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            let scratch = "botops_scratch_interrupted"
            _ = try await BackupSandbox.psql("CREATE TABLE \(scratch) AS SELECT i, md5(i::text) AS note FROM generate_series(1, 2000000) i; ALTER TABLE \(scratch) ADD PRIMARY KEY (i)")
            do {
                let first = try await scene.botops(["backup", "--no-verify", "--format", "json"], config: config)
                let record = try #require(BackupRecord.parse(first.stdoutText), "\(first.stderrText)")
                _ = try await BackupSandbox.psql("DROP TABLE \(scratch)")
                let stderr = scene.directory + "/restore.stderr"
                FileManager.default.createFile(atPath: stderr, contents: nil)
                let process = Process()
                process.executableURL = URL(fileURLWithPath: BuiltBinary.botops.path)
                process.arguments = ["restore", record.id, "--tables", scratch, "--yes", "--config", config]
                process.standardOutput = FileHandle.nullDevice
                process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
                try process.run()
                try await waitUntil {
                    try await BackupSandbox.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY public.\(scratch)%'") == "1" || !process.isRunning
                }
                kill(process.processIdentifier, SIGINT)
                while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
                let errors = (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? ""
                #expect(process.terminationStatus == 130, "\(errors)")
                #expect(errors.contains("the tables were not restored, nothing changed"), "\(errors)")
                // Whatever session of the restore is left on the host ends (commits or rolls back).
                try await waitUntil {
                    try await BackupSandbox.psql("SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND (query LIKE '%\(scratch)%' OR query LIKE '%botops_restored%')") == "0"
                }
                #expect(try await BackupSandbox.psql("SELECT count(*) FROM pg_tables WHERE tablename = '\(scratch)'") == "0", "rolled back, not committed after botops exited")
                let audit = try await BackupSandbox.sh("tail -n 1 ~bot/.botops/audit.jsonl")
                #expect(audit.contains(#""action":"restore""#) && audit.contains(#""result":"failed""#) && audit.contains("interrupted"), "\(audit)")
            } catch {
                Issue.record("\(error)")
            }
            _ = try await BackupSandbox.psql("DROP TABLE IF EXISTS \(scratch)")
        }
    }

    /// The COMMIT is conditional on the figures: a record that says one row more than the dump
    /// holds rolls the whole restore back.
    @Test func figuresThatDifferFromTheRecordRollTheTableRestoreBack() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            let scratch = "botops_scratch_differ"
            _ = try await BackupSandbox.psql("CREATE TABLE \(scratch) (id int PRIMARY KEY); INSERT INTO \(scratch) SELECT generate_series(1, 10)")
            do {
                let first = try await scene.botops(["backup", "--no-verify", "--format", "json"], config: config)
                var record = try #require(BackupRecord.parse(first.stdoutText), "\(first.stderrText)")
                _ = try await BackupSandbox.psql("DROP TABLE \(scratch)")
                let index = try #require(record.tables.firstIndex { $0.name == scratch })
                record.tables[index].rows += 1
                // In place: the file keeps its owner.
                try record.json.write(toFile: scene.directory + "/backups/" + record.id + ".json", atomically: false, encoding: .utf8)
                let result = try await scene.botops(["restore", record.id, "--tables", scratch, "--yes"], config: config)
                #expect(result.termination == .exited(1), "\(result.stderrText)")
                #expect(result.stderrText.contains("the tables were not restored, nothing changed") && result.stderrText.contains(scratch), "\(result.stderrText)")
                #expect(try await BackupSandbox.psql("SELECT count(*) FROM pg_tables WHERE tablename = '\(scratch)'") == "0", "rolled back")
            } catch {
                Issue.record("\(error)")
            }
            _ = try await BackupSandbox.psql("DROP TABLE IF EXISTS \(scratch)")
        }
    }

    /// psql's output reaches botops on the same stdout as the host's own lines (the ask for the
    /// word, the mark, `restored`): a row a warning prints (here a CHECK whose function echoes
    /// it) must not pass for one of them. Figures that differ roll back even though a row prints
    /// `restored`; with the record as it was, the host asks for botops's word once and commits.
    @Test func rowsThatPrintLikeTheRestoresOwnLinesPassForNone() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            let scratch = "botops_scratch_echoed", echo = "botops_scratch_echo"
            _ = try await BackupSandbox.psql("""
                CREATE FUNCTION \(echo)(note text) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN RAISE WARNING '%', note; RETURN true; END $$;
                CREATE TABLE \(scratch) (id int PRIMARY KEY, note text CHECK (\(echo)(note)));
                INSERT INTO \(scratch) VALUES (1, E'x\\nrestored'), (2, E'x\\nbotops-reached-commit'), (3, E'x\\nbotops-commit-asked'), (4, E'x\\nbotops-commit-not-given')
                """)
            do {
                let first = try await scene.botops(["backup", "--no-verify", "--format", "json"], config: config)
                let record = try #require(BackupRecord.parse(first.stdoutText), "\(first.stderrText)")
                _ = try await BackupSandbox.psql("DROP TABLE \(scratch)")
                let path = scene.directory + "/backups/" + record.id + ".json"
                var differing = record
                let index = try #require(record.tables.firstIndex { $0.name == scratch })
                differing.tables[index].rows += 1
                // In place: the file keeps its owner.
                try differing.json.write(toFile: path, atomically: false, encoding: .utf8)
                let refused = try await scene.botops(["restore", record.id, "--tables", scratch, "--yes"], config: config)
                #expect(refused.termination == .exited(1), "\(refused.stdoutText)\n\(refused.stderrText)")
                #expect(refused.stderrText.contains("the tables were not restored, nothing changed"), "\(refused.stderrText)")
                #expect(try await BackupSandbox.psql("SELECT count(*) FROM pg_tables WHERE tablename = '\(scratch)'") == "0", "rolled back")
                try record.json.write(toFile: path, atomically: false, encoding: .utf8)
                // The host asks for the word once: the rows that print an ask, or the mark that makes
                // the host ask, did not make botops send it early (during the data load).
                let asks = Counter()
                let host = try await SSHConnection.connect(to: try scene.sandbox.target())
                try await host.closing {
                    let settings = try BotOpsConfig.load(path: config)
                    let job = TableRestore(config: settings, runner: host)
                    let plan = try await job.plan(try await Self.entry(record.id, config: settings, host: host), tables: [.init(parsing: scratch)], replace: false)
                    _ = try await job.run(plan) { asks.add() }
                }
                #expect(asks.value == 1)
                #expect(try await BackupSandbox.psql("SELECT count(*) FROM \(scratch)") == "4")
            } catch {
                Issue.record("\(error)")
            }
            _ = try await BackupSandbox.psql("DROP TABLE IF EXISTS \(scratch); DROP FUNCTION IF EXISTS \(echo)(text)")
        }
    }

    /// Counts calls from any thread.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func add() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }

    /// Another table's foreign key added after the backup cannot be moved by the dump: the plan
    /// and the result say it stays on the table set aside.
    @Test func aForeignKeyTheBackupDoesNotHaveIsNamedAsLeftOnTheSetAsideTable() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            let parent = "botops_scratch_fkparent"
            _ = try await BackupSandbox.psql("CREATE TABLE \(parent) (id int PRIMARY KEY); INSERT INTO \(parent) VALUES (1), (2)")
            do {
                let first = try await scene.botops(["backup", "--no-verify", "--format", "json"], config: config)
                let record = try #require(BackupRecord.parse(first.stdoutText), "\(first.stderrText)")
                _ = try await BackupSandbox.psql("CREATE TABLE botops_scratch_fklater (pid int CONSTRAINT botops_later_fk REFERENCES \(parent) (id)); INSERT INTO botops_scratch_fklater VALUES (2)")
                let plan = try await scene.botops(["restore", record.id, "--tables", parent, "--replace", "--dry-run"], config: config)
                #expect(plan.stdoutText.contains("warning: the foreign key botops_later_fk of botops_scratch_fklater is not in the backup: it stays on public.\(parent)_replaced_"),
                        "\(plan.stdoutText)")
                let done = try await scene.botops(["restore", record.id, "--tables", parent, "--replace", "--yes"], config: config)
                #expect(done.termination == .exited(0), "\(done.stderrText)")
                #expect(done.stdoutText.contains("warning: the foreign key botops_later_fk of botops_scratch_fklater still points at public.\(parent)_replaced_"), "\(done.stdoutText)")
            } catch {
                Issue.record("\(error)")
            }
            let aside = try await BackupSandbox.psql(#"SELECT string_agg(tablename, ', ') FROM pg_tables WHERE tablename LIKE 'botops\_scratch\_fk%'"#)
            _ = try await BackupSandbox.psql("DROP TABLE IF EXISTS \(aside) CASCADE")
        }
    }
}
