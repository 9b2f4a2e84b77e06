import BotOpsKit
import Foundation
import HostCommands
import Remote
import SandboxSupport
import Testing

/// The scratch database of `backup.verify_on_live`: created like the live database, and dropped
/// by hand only through botops's own guard.
extension BackupSandboxTests {
    /// A live database in UTF8 on a cluster whose default is SQL_ASCII: in a scratch database of
    /// the default encoding, `length('é')` is 2 and the dump's CHECK constraint fails to restore.
    @Test func theScratchDatabaseTakesTheLiveDatabasesEncodingAndLocale() async throws {
        try await BackupSandbox.scene { scene in
            let live = "botops_utf8_live"
            try await BackupSandbox.sh("docker exec db createdb -U bot_user -T template0 -E UTF8 --lc-collate=C --lc-ctype=C \(live)")
            do {
                #expect(try await BackupSandbox.sh("docker exec db psql -X -A -t -U bot_user -d postgres -c 'SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = $$template1$$'") != "UTF8",
                        "the cluster's default encoding must differ for this test")
                try await BackupSandbox.sh(#"printf '%s\n' "CREATE TABLE letters (note text CHECK (length(note) = 1)); INSERT INTO letters VALUES ('é'), ('ß');" | docker exec -i db psql -X -q -v ON_ERROR_STOP=1 -U bot_user -d "# + live)
                let config = try scene.config()
                let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "name: bot_trader_db", with: "name: \(live)")
                try (text + "  verify_on_live: true\n").write(toFile: config, atomically: true, encoding: .utf8)
                let environment = ["PATH": try await scene.dockerWithoutThrowawayServer()]
                let taken = try await BuiltBinary.botops.run(["backup", "--local", "--format", "json", "--config", config], environment: environment)
                #expect(taken.termination == .exited(0), "\(taken.stderrText)")
                let record = BackupRecord.parse(taken.stdoutText)
                #expect(record?.status == .verified, "\(record?.statusReason ?? taken.stderrText)")
                #expect(try await BackupSandbox.psql("SELECT count(*) FROM pg_database WHERE datname LIKE 'botops\\_verify\\_%'") == "0")
            } catch {
                Issue.record("\(error)")
            }
            try await BackupSandbox.sh("docker exec db dropdb -U bot_user --if-exists --force \(live)")
        }
    }

    /// The command botops prints when a verification on the live server was cut short: run as
    /// printed, it drops the scratch database its marker and comment prove botops's, and leaves a
    /// database of that name that is someone else's (no marker, or another comment). backup.dir is
    /// under `~/` of botops's ssh user, and the command is pasted by root (another `$HOME`, another
    /// working directory): it names backup.dir as botops read it on the host.
    @Test func theDropCommandForALeftScratchDatabaseDropsOnlyBotopssOwn() async throws {
        try await BackupSandbox.scene { scene in
            let home = "botops-advice-" + UUID().uuidString.prefix(8)
            let configPath = try scene.config(dir: "~/" + home)
            let backups = "/home/bot/" + home
            defer { try? FileManager.default.removeItem(atPath: backups) }
            let scripts = BackupScripts(config: try BotOpsConfig.load(path: configPath))
            let scratch = scripts.scratchDatabase(try #require(BackupID.parse("20200102T030405Z")))
            let marker = backups + "/.botops-scratch-" + scratch
            try await BackupSandbox.sh("runuser -u bot -- mkdir -p \(shellQuote(backups))")
            // What the verification read before it began (as BackupJob does), over ssh as botops's user.
            let host = try await SSHConnection.connect(to: try scene.sandbox.target())
            let left = try await host.closing { try await host.run(scripts.dropLeftScratch()) }
            let resolved = BackupFigures(parsing: left.stdout).facts["dir"]
            #expect(resolved == backups, "\(left.stdout)")
            let advice = BackupError.scratchMayRemain(database: scratch, dropCommand: scripts.dropScratchByHand(scratch, resolved: resolved), cause: "connection lost",
                                                      code: .unreachable).description
            let lead = "hold the same token):\n  "
            try #require(advice.contains(lead), "\(advice)")
            let pasted = String(advice[advice.range(of: lead)!.upperBound...])
            #expect(!pasted.contains("$HOME"), "\(pasted)")
            let command = "cd / && su -s /bin/sh root -c \(shellQuote(pasted))"
            func exists() async throws -> Bool { try await BackupSandbox.psql("SELECT count(*) FROM pg_database WHERE datname = '\(scratch)'") == "1" }
            do {
                // Someone else's database of that name: no marker, then a marker with another token.
                try await BackupSandbox.sh("docker exec db createdb -U bot_user \(scratch) 'not botops'")
                try await BackupSandbox.sh(command)
                #expect(try await exists(), "dropped without botops's marker")
                try await BackupSandbox.sh("printf '%s\\n' 'botops scratch other' >\(shellQuote(marker))")
                #expect(try await BackupSandbox.sh(command) == "", "it says nothing was dropped")
                #expect(try await exists(), "dropped although its comment is not the marker's token")
                try await BackupSandbox.sh("docker exec db dropdb -U bot_user --if-exists \(scratch)")
                // botops's own, as a cut-short verification leaves it: dropped, and its marker cleared.
                try await BackupSandbox.sh("printf '%s\\n' 'botops scratch left' >\(shellQuote(marker)) && docker exec db createdb -U bot_user \(scratch) 'botops scratch left'")
                #expect(try await BackupSandbox.sh(command) == "dropped \(scratch)")
                #expect(try await !exists())
                #expect(!FileManager.default.fileExists(atPath: marker))
            } catch {
                Issue.record("\(error)")
            }
            try await BackupSandbox.sh("docker exec db dropdb -U bot_user --if-exists \(scratch)")
        }
    }
}
