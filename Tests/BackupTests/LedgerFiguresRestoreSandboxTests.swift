import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// Issue 15's must-show: the restored ledger gives `bot-engine allocate`, `bot-engine report weekly`
/// and the host's weekly review queries (run as its cron script runs them, `docker exec db psql`)
/// the same figures as before the accident.
extension BackupSandboxTests {
    /// What the bot's own tools say about the ledger, connecting as the bot does (loopback, the
    /// password from the checkout's .env, never printed).
    static func ledgerFigures(in directory: String) async throws -> [String] {
        let environment = "PGHOST=127.0.0.1 PGPORT=55432 PGUSER=bot_user PGDATABASE=bot_trader_db PGPASSWORD=\"$(sed -n 's/^POSTGRES_PASSWORD=//p' /opt/bot/.env)\""
        let engine = shellQuote(BuiltBinary.botEngine.path)
        let allocate = try await BackupSandbox.sh("env \(environment) \(engine) allocate")
        let out = directory + "/report-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try await BackupSandbox.sh("env \(environment) \(engine) report weekly --out \(shellQuote(out)) >/dev/null")
        // The report's figures, without the line that says when it was written.
        let report = try await BackupSandbox.sh("cat \(shellQuote(out))/weekly_review_* | grep -Eiv 'generated|written|^# .*[0-9]{4}-[0-9]{2}-[0-9]{2}T'")
        var figures = ["allocate: " + allocate, "report: " + report]
        for query in ["weekly_symbol_performance", "weekly_signal_quality", "weekly_timing_analysis"] {
            figures.append(query + ": " + (try await BackupSandbox.sh("docker exec -i db psql -U bot_user -d bot_trader_db -v ON_ERROR_STOP=1 < /opt/bot/queries/\(query).sql")))
        }
        return figures
    }

    @Test func theRestoredLedgerGivesAllocateTheReportAndTheWeeklyQueriesTheSameFigures() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            // The stack writes fills all the time: stopped, so before and after read the same ledger.
            // (A full restore starts only the services that were running: these stay stopped.)
            try await BackupSandbox.sh("docker stop -t 10 sighook webhook report-job >/dev/null")
            let existing = try await Self.restoreDatabases()
            var dump: String?
            do {
                let before = try await Self.ledgerFigures(in: scene.directory)
                #expect(before[0].contains("allocations") && before.count == 5, "\(before)")
                let record = try await scene.unverifiedBackup(config: config)
                dump = scene.directory + "/backups/" + record.id + ".dump"
                // The accident: a table dropped, fills deleted.
                try await BackupSandbox.psql("DROP TABLE trade_strategy_link")
                try await BackupSandbox.psql("DELETE FROM fifo_allocations; DELETE FROM trade_records WHERE order_id IN (SELECT order_id FROM trade_records ORDER BY order_time DESC LIMIT 4)")
                // The accident changes the figures, or the tools fail (the report reads the dropped table).
                let damaged = try? await Self.ledgerFigures(in: scene.directory)
                #expect(damaged != before, "the accident changes the figures")
                let restored = try await scene.botops(["restore", record.id, "--yes"], config: config)
                #expect(restored.termination == .exited(0), "\(restored.stderrText)")
                let after = try await Self.ledgerFigures(in: scene.directory)
                #expect(after == before)
            } catch {
                Issue.record("\(error)")
            }
            // Back as found: the replaced (damaged) database this test made goes; if the restore did not
            // happen, the dump is put back by hand.
            for name in try await Self.restoreDatabases().subtracting(existing) {
                try await BackupSandbox.sh("docker exec db dropdb -U bot_user --force \(shellQuote(name))")
            }
            if let dump, try await BackupSandbox.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'trade_strategy_link'") != "1" {
                try await BackupSandbox.psql("ALTER DATABASE bot_trader_db ALLOW_CONNECTIONS true")
                try await BackupSandbox.sh("docker exec -i db pg_restore --clean --if-exists -U bot_user -d bot_trader_db < \(shellQuote(dump))")
            }
            try await BackupSandbox.sh("docker start sighook webhook report-job >/dev/null")
            try await Self.servicesHealthy()
        }
    }
}
