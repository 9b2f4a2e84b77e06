import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// Backup and full restore on the user's own compose file rather than the fixture's: the db's data
/// on a plain named volume of project bottrader-aws, and no healthcheck on any service, the db
/// included; once with each compose spelling botops may be told to use. The restore's wait after
/// the swap must end (no healthcheck to wait for) and must not pass a host whose checks fail;
/// `restore --test` and `restore --tables` work there too.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct RestoreVariantSandboxTests {
    @Test(arguments: ["docker-compose", "docker compose"])
    func theUsersComposeFileIsBackedUpAndRestoredFully(compose: String) async throws {
        try await BackupSandbox.scene { scene in
            try await StackVariant.userHost.applied {
                // The variant is really running: no healthcheck on the db, the named volume's data.
                #expect(try await BackupSandbox.sh(#"docker inspect -f '{{if .State.Health}}health{{else}}none{{end}} {{index .Config.Labels "com.docker.compose.project"}} {{range .Mounts}}{{.Name}}{{end}}' db"#)
                        == "none bottrader-aws bottrader-aws_pg_data")
                let config = try scene.config()
                let text = try String(contentsOfFile: config, encoding: .utf8)
                try #require(text.contains("command: auto"))
                try text.replacing("command: auto", with: "command: \(compose)").write(toFile: config, atomically: true, encoding: .utf8)

                let taken = try await scene.botops(["backup", "--format", "json"], config: config)
                let record = try #require(BackupRecord.parse(taken.stdoutText), "\(taken.stderrText)")
                #expect(record.status == .verified, "\(record.statusReason ?? "")")
                let existing = try await BackupSandboxTests.restoreDatabases()
                let dump = scene.directory + "/backups/" + record.id + ".dump"
                var output = ""
                do {
                    try await BackupSandbox.psql("DROP TABLE trade_strategy_link")
                    try await BackupSandbox.psql("DELETE FROM trade_records WHERE order_id IN (SELECT order_id FROM trade_records ORDER BY order_id LIMIT 3)")
                    let restored = try await scene.botops(["restore", record.id, "--yes"], config: config)
                    output = restored.stdoutText
                    #expect(restored.termination == .exited(0), "\(restored.stdoutText)\n\(restored.stderrText)")
                    #expect(output.contains("all \(record.tables.count) tables' figures equal the record"), "\(output)")
                    #expect(output.contains("the nine checks: 9 pass") && !output.contains("failing"), "\(output)")
                    // Every table as recorded, or (one the restarted services write to) with more rows.
                    let after = try await BackupSandbox.liveFigures()
                    #expect(after.map(\.qualifiedName) == record.tables.map(\.qualifiedName))
                    for table in record.tables {
                        let now = try #require(after.first { $0.qualifiedName == table.qualifiedName })
                        #expect(now.rows > table.rows || now == table, "\(table.qualifiedName): \(now) after the restore, \(table) recorded")
                    }
                    let link = try await BackupSandbox.psql("SELECT count(*) FROM pg_constraint WHERE conrelid = 'trade_strategy_link'::regclass")
                    #expect(Int(link) ?? 0 >= 3, "trade_strategy_link is back with its key and foreign keys")
                    #expect(try await BackupSandbox.sh("docker inspect -f '{{.State.Status}}' sighook webhook report-job db | sort -u") == "running")
                    #expect(try await BackupSandbox.sh("docker inspect -f '{{range .Mounts}}{{.Name}}{{end}}' db") == "bottrader-aws_pg_data")

                    // The monthly restore test touches nothing live; --tables brings a dropped table back.
                    let tested = try await scene.botops(["restore", record.id, "--test"], config: config)
                    #expect(tested.termination == .exited(0), "\(tested.stdoutText)\n\(tested.stderrText)")
                    try await BackupSandbox.psql("DROP TABLE trade_strategy_link")
                    let table = try await scene.botops(["restore", record.id, "--tables", "trade_strategy_link", "--yes"], config: config)
                    #expect(table.termination == .exited(0), "\(table.stdoutText)\n\(table.stderrText)")
                    let recorded = try #require(record.tables.first { $0.name == "trade_strategy_link" })
                    #expect(table.stdoutText.contains("public.trade_strategy_link: \(recorded.rows) rows restored, figures equal the record"), "\(table.stdoutText)")
                    let constraints = try await BackupSandbox.psql("SELECT count(*) FROM pg_constraint WHERE conrelid = 'trade_strategy_link'::regclass")
                    #expect(constraints == link, "trade_strategy_link is back with its key and foreign keys again")
                } catch {
                    Issue.record("restore failed: \(error)")
                }
                // The replaced database is kept by the restore and named in its output; the test drops it.
                let replaced = try await BackupSandboxTests.restoreDatabases().subtracting(existing)
                #expect(replaced.count == 1 && replaced.allSatisfy { $0.hasPrefix("bot_trader_db_replaced_") && output.contains($0) }, "\(replaced)")
                for name in replaced {
                    try await BackupSandbox.sh("docker exec db dropdb -U bot_user --force \(shellQuote(name))")
                }
                // Opened from the postgres database: a closed bot_trader_db takes no connection to open it.
                try await BackupSandbox.sh(#"docker exec db psql -X -q -U bot_user -d postgres -c 'ALTER DATABASE "bot_trader_db" ALLOW_CONNECTIONS true'"#)
                if try await BackupSandbox.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'trade_strategy_link'") != "1" {
                    try await BackupSandbox.sh("docker exec -i db pg_restore --clean --if-exists -U bot_user -d bot_trader_db < \(shellQuote(dump))")
                }
            }
        }
    }

    /// Without a healthcheck, "healthy" can only mean running and staying up: a service that
    /// exits as it starts again after the swap (its container's own file system holds the fault,
    /// so only the restore's `docker start` meets it) must fail the restore with exit 5 and the
    /// swap-back commands, never pass it.
    @Test func aServiceThatDiesAsTheRestoreStartsItIsNotCalledHealthyWithoutAHealthcheck() async throws {
        try await BackupSandbox.scene { scene in
            try await StackVariant.userHost.applied {
                #expect(try await BackupSandbox.sh("docker inspect -f '{{if .State.Health}}health{{else}}none{{end}}' sighook") == "none")
                let config = try scene.config()
                let record = try await scene.unverifiedBackup(config: config)
                let existing = try await BackupSandboxTests.restoreDatabases()
                try await BackupSandbox.sh("docker exec sighook sh -c 'mkdir -p /app/faults && touch /app/faults/sighook.exit-at-start'")
                let restored = try await scene.botops(["restore", record.id, "--yes"], config: config)
                #expect(restored.termination == .exited(5), "\(restored.stdoutText)\n\(restored.stderrText)")
                // sighook's own verdict, not another failure that happens to name it.
                #expect(["keeps restarting", "exited right after starting"].contains { restored.stderrText.contains("the services did not come back: sighook \($0)") },
                        "\(restored.stderrText)")
                // Back as found: the previous database swapped back in, the restored copy (now
                // botops_restore_TIME) dropped; the variant's containers go with the variant.
                let commands = restored.stderrText.split(separator: "\n").filter { $0.hasPrefix("  docker exec ") }.map { String($0.dropFirst(2)) }
                #expect(commands.count == 2, "\(restored.stderrText)")
                for command in commands { try await BackupSandbox.sh(command) }
                for name in try await BackupSandboxTests.restoreDatabases().subtracting(existing) {
                    if name.hasPrefix("bot_trader_db_replaced_") {
                        // The restore passed (what this test guards against): the previous database goes back.
                        Issue.record("the restore kept \(name) as if it had passed")
                        try await BackupSandbox.sh("docker exec db dropdb -U bot_user --force bot_trader_db")
                        try await BackupSandbox.sh(shellCommand(["docker", "exec", "db", "psql", "-X", "-U", "bot_user", "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                                                                 "-c", "ALTER DATABASE \"\(name)\" RENAME TO bot_trader_db"]))
                    } else {
                        try await BackupSandbox.sh("docker exec db dropdb -U bot_user --force \(shellQuote(name))")
                    }
                }
                try await BackupSandbox.sh("docker rm -f sighook >/dev/null")
            }
        }
    }
}
