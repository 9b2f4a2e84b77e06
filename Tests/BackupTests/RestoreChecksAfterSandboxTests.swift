import BotOpsKit
import Foundation
import SandboxSupport
import Testing

/// A check that passed before a full restore and fails after the swap: exit 5, the check named,
/// and the printed commands put the previous database back.
extension BackupSandboxTests {
    @Test func aCheckPassingBeforeAFullRestoreAndFailingAfterTheSwapExits5WithTheSwapBackCommands() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            let existing = try await Self.restoreDatabases()
            let active = try await BackupSandbox.psql("SELECT snapshot_id FROM strategy_snapshots WHERE active_until IS NULL")
            try #require(!active.isEmpty && !active.contains("\n"), "one active snapshot: \(active)")
            let reopen = "UPDATE strategy_snapshots SET active_until = NULL WHERE snapshot_id = '\(active)'"
            do {
                // The backup holds no active snapshot (check 9 fails on it); the live database has one again.
                try await BackupSandbox.psql("UPDATE strategy_snapshots SET active_until = now() WHERE snapshot_id = '\(active)'")
                let taken = try await scene.botops(["backup", "--no-verify", "--format", "json"], config: config)
                try await BackupSandbox.psql(reopen)
                let record = try #require(BackupRecord.parse(taken.stdoutText), "\(taken.stderrText)")
                let restored = try await scene.botops(["restore", record.id, "--yes"], config: config)
                #expect(restored.termination == .exited(5), "\(restored.stderrText)")
                #expect(restored.stderrText.contains("passing before the swap, failing now: snapshot-active"), "\(restored.stderrText)")
                var swapBack: [String] = [], into = false
                for line in restored.stderrText.split(separator: "\n") {
                    if line.contains("To put the replaced database back") { into = true; continue }
                    if into, line.hasPrefix("  ") { swapBack.append(String(line.dropFirst(2))) }
                }
                #expect(swapBack.count == 2, "\(restored.stderrText)")
                // The printed commands put the previous database (with its active snapshot) back.
                try await BackupSandbox.sh("docker stop -t 10 sighook webhook report-job >/dev/null")
                for command in swapBack { try await BackupSandbox.sh(command) }
                try await BackupSandbox.sh("docker start sighook webhook report-job >/dev/null")
                #expect(try await BackupSandbox.psql("SELECT snapshot_id FROM strategy_snapshots WHERE active_until IS NULL") == active)
            } catch {
                Issue.record("\(error)")
            }
            // Back as found whatever happened: connections allowed, the snapshot active, this test's databases dropped.
            try await BackupSandbox.sh(#"docker exec db psql -X -q -U bot_user -d postgres -c 'ALTER DATABASE "bot_trader_db" ALLOW_CONNECTIONS true'"#)
            if try await BackupSandbox.psql("SELECT count(*) FROM strategy_snapshots WHERE active_until IS NULL") == "0" { try await BackupSandbox.psql(reopen) }
            try await BackupSandbox.sh("docker start sighook webhook report-job >/dev/null")
            for name in try await Self.restoreDatabases().subtracting(existing) {
                try await BackupSandbox.sh("docker exec db dropdb -U bot_user --if-exists --force \(shellQuote(name))")
            }
            try await Self.servicesHealthy()
        }
    }
}
