import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// `botops restore` (full) on the sandbox's real db container. The live ledger is damaged on
/// purpose and restored; the test then leaves the sandbox as it found it: the restored database
/// holds the original rows, and the `_replaced_` database this test made is dropped (only that one).
extension BackupSandboxTests {
    /// What must be the same after the test as before it: the databases, the ledger's schema
    /// (tables, keys, indexes, constraints, grants) and the figures of the given tables.
    static func fingerprint() async throws -> (structure: String, tables: [BackupRecord.Table]) {
        let databases = try await BackupSandbox.sh("docker exec db psql -X -At -U bot_user -d postgres -c 'SELECT datname, datallowconn FROM pg_database ORDER BY 1'")
        let schema = try await BackupSandbox.sh("docker exec db pg_dump --schema-only -U bot_user -d bot_trader_db | grep -Ev '^.(un)?restrict ' | sha256sum")
        return (databases + "\n" + schema, try await BackupSandbox.liveFigures())
    }

    static func same(_ a: (structure: String, tables: [BackupRecord.Table]), _ b: (structure: String, tables: [BackupRecord.Table]), in quiet: Set<String>) -> Bool {
        a.structure == b.structure && a.tables.filter { quiet.contains($0.qualifiedName) } == b.tables.filter { quiet.contains($0.qualifiedName) }
    }

    /// Databases a restore makes: the replaced one, and the new one while it is being filled.
    static func restoreDatabases() async throws -> Set<String> {
        let sql = #"SELECT datname FROM pg_database WHERE datname LIKE 'bot\_trader\_db\_replaced\_%' OR datname LIKE 'botops\_restore\_%'"#
        return Set(try await BackupSandbox.sh(shellCommand(["docker", "exec", "db", "psql", "-X", "-At", "-U", "bot_user", "-d", "postgres", "-c", sql]))
            .split(separator: "\n").map(String.init))
    }

    @Test func fullRestoreAfterADroppedTableAndDeletedRowsSwapsInTheBackup() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            let before = try await BackupSandbox.liveFigures()
            let first = try await scene.botops(["backup", "--format", "json"], config: config)
            let record = try #require(BackupRecord.parse(first.stdoutText), "\(first.stderrText)")
            try #require(record.status == .verified)
            // The sandbox's stack writes trade_records, trade_strategy_link and fifo_allocations all the
            // time: the tables it left alone around the backup are the fingerprint's figures.
            let settled = try await BackupSandbox.liveFigures()
            var quiet = Set(record.tables.filter { before.contains($0) && settled.contains($0) }.map(\.qualifiedName))
            try #require(quiet.count >= 6, "\(quiet)")
            let fingerprint = try await Self.fingerprint()
            let dump = scene.directory + "/backups/" + record.id + ".dump"

            let plan = try await scene.botops(["restore", "latest"], config: config)
            #expect(plan.termination == .exited(4), "\(plan.stderrText)")
            #expect(plan.stdoutText.contains("rename bot_trader_db → bot_trader_db_replaced_"), "\(plan.stdoutText)")
            #expect(Self.same(try await Self.fingerprint(), fingerprint, in: quiet), "the plan changed nothing")

            let existing = try await Self.restoreDatabases()
            var output = ""
            do {
                try await BackupSandbox.psql("DROP TABLE trade_strategy_link")
                let deleted = try await BackupSandbox.psql("DELETE FROM trade_records WHERE order_id IN (SELECT order_id FROM trade_records ORDER BY order_id LIMIT 3) RETURNING order_id")
                    .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("DELETE") }
                try #require(deleted.count == 3, "\(deleted)")
                // A session left in the live database (as a cron script's psql would be) is named and terminated.
                try await BackupSandbox.sh("docker exec -d -e PGAPPNAME=botops-restore-holder db psql -X -U bot_user -d bot_trader_db -c 'SELECT pg_sleep(600)'")
                try await waitUntil { (try? await BackupSandbox.psql("SELECT 1 FROM pg_stat_activity WHERE application_name = 'botops-restore-holder'")) == "1" }

                // A service the operator stopped stays stopped.
                try await BackupSandbox.sh("docker stop -t 10 report-job >/dev/null")
                let restored = try await scene.botops(["restore", record.id, "--yes"], config: config)
                #expect(try await BackupSandbox.sh("docker inspect -f '{{.State.Status}}' report-job") == "exited", "a stopped service was started")
                output = restored.stdoutText
                #expect(restored.termination == .exited(0), "\(restored.stderrText)")
                #expect(output.contains("terminated backend") && output.contains("botops-restore-holder"), "\(output)")
                #expect(output.contains("rows beyond the backup"), "\(output)")
                let after = try await BackupSandbox.liveFigures()
                #expect(after.map(\.qualifiedName) == record.tables.map(\.qualifiedName))
                #expect(output.contains("all \(record.tables.count) tables' figures equal the record"), "\(output)")
                // The sandbox's services write rows when they start, as the restore starts them again:
                // a table the stack wrote to holds more rows than the backup; every other one equals it.
                for table in record.tables {
                    let now = try #require(after.first { $0.qualifiedName == table.qualifiedName })
                    #expect(now.rows > table.rows || now == table, "\(table.qualifiedName): \(now) after the restore, \(table) recorded")
                    if now.rows > table.rows { quiet.remove(table.qualifiedName) }
                }
                let back = try await BackupSandbox.psql("SELECT count(*) FROM trade_records WHERE order_id IN (\(deleted.map { "'\($0)'" }.joined(separator: ", ")))")
                #expect(back == "3", "the deleted rows are back")
                let link = try await BackupSandbox.psql("SELECT count(*) FROM pg_constraint WHERE conrelid = 'trade_strategy_link'::regclass")
                #expect(Int(link) ?? 0 >= 3, "trade_strategy_link is back with its key and foreign keys")
                let audit = try await BackupSandbox.sh("tail -n 1 ~bot/.botops/audit.jsonl")
                #expect(audit.contains(#""action":"restore""#) && audit.contains(#""result":"success""#), "\(audit)")
            } catch {
                Issue.record("restore failed: \(error)")
            }
            // Back as found: the databases this test made go (only those), and if the restore did
            // not happen the dump puts the ledger back by hand.
            let replaced = try await Self.restoreDatabases().subtracting(existing)
            #expect(replaced.count == 1 && replaced.first.map { $0.hasPrefix("bot_trader_db_replaced_") && output.contains($0) } == true, "\(replaced)")
            for name in replaced {
                try await BackupSandbox.sh("docker exec db dropdb -U bot_user \(shellQuote(name))")
            }
            if try await BackupSandbox.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'trade_strategy_link'") != "1" {
                try await BackupSandbox.psql("ALTER DATABASE bot_trader_db ALLOW_CONNECTIONS true")
                try await BackupSandbox.sh("docker exec -i db pg_restore --clean --if-exists -U bot_user -d bot_trader_db < \(shellQuote(dump))")
            }
            #expect(Self.same(try await Self.fingerprint(), fingerprint, in: quiet), "as found: databases, schema, figures of \(quiet.sorted())")
            // Last: a service writes rows as it starts.
            try await BackupSandbox.sh("docker start report-job >/dev/null")
            try await waitUntil { (try? await BackupSandbox.sh("docker inspect -f '{{.State.Health.Status}}' report-job")) == "healthy" }
        }
    }

    @Test func servicesNotHealthyAfterTheSwapExitFiveWithCommandsThatSwapBack() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            // The services cannot be stable within 1 s: the wait after the swap fails.
            try "health:\n  timeout: 1s\n  stable_for: 30s\n".appendToFile(config)
            let before = try await BackupSandbox.liveFigures()
            let first = try await scene.botops(["backup", "--format", "json"], config: config)
            let record = try #require(BackupRecord.parse(first.stdoutText), "\(first.stderrText)")
            let quiet = Set(record.tables.filter { before.contains($0) }.map(\.qualifiedName))
            let fingerprint = try await Self.fingerprint()
            let existing = try await Self.restoreDatabases()

            let restored = try await scene.botops(["restore", "latest", "--yes"], config: config)
            #expect(restored.termination == .exited(5), "\(restored.stderrText)")
            let commands = restored.stderrText.split(separator: "\n").filter { $0.hasPrefix("  docker exec ") }.map { String($0.dropFirst(2)) }
            #expect(commands.count == 2, "\(restored.stderrText)")
            for command in commands { try await BackupSandbox.sh(command) }
            // The swapped-out copy (the restored data, now botops_restore_TIME) is this test's to drop; the original is live again.
            let made = try await Self.restoreDatabases().subtracting(existing)
            #expect(made.count == 1 && made.allSatisfy { $0.hasPrefix("botops_restore_") }, "\(made)")
            for name in made { try await BackupSandbox.sh("docker exec db dropdb -U bot_user \(shellQuote(name))") }
            #expect(Self.same(try await Self.fingerprint(), fingerprint, in: quiet), "as found")
            for service in ["sighook", "webhook", "report-job"] {
                try await waitUntil { (try? await BackupSandbox.sh("docker inspect -f '{{.State.Health.Status}}' \(service)")) == "healthy" }
            }
        }
    }
}

extension String {
    func appendToFile(_ path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(utf8))
    }
}
