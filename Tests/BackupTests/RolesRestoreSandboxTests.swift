import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// The roles file beside a dump: a full restore onto a recreated cluster creates the roles the
/// dump's objects belong to, never alters one that exists, and a roles file that is not the one
/// the record names is refused before any restore uses it.
extension BackupSandboxTests {
    @Test func aFullRestoreCreatesTheMissingRolesNeverAltersAnExistingOneAndRefusesAnAlteredRolesFile() async throws {
        try await BackupSandbox.scene { scene in
            let local = scene.directory + "/operator copy"
            // A table owned by a role of its own, on the sandbox's server only while the backup is taken.
            _ = try await BackupSandbox.psql("CREATE ROLE ledger_owner LOGIN PASSWORD 'ledger-one'; CREATE TABLE ledger_owned (id int PRIMARY KEY); "
                                         + "INSERT INTO ledger_owned SELECT generate_series(1, 5); ALTER TABLE ledger_owned OWNER TO ledger_owner")
            let taken: CommandResult
            let hash: String
            do {
                hash = try await BackupSandbox.psql("SELECT rolpassword FROM pg_authid WHERE rolname = 'ledger_owner'")
                taken = try await scene.botops(["backup", "--no-verify", "--format", "json", "--download", local])
            } catch {
                _ = try? await BackupSandbox.psql("DROP TABLE IF EXISTS ledger_owned; DROP ROLE IF EXISTS ledger_owner")
                throw error
            }
            _ = try await BackupSandbox.psql("DROP TABLE ledger_owned; DROP ROLE ledger_owner")
            let record = try #require(BackupRecord.parse(taken.stdoutText), "\(taken.stderrText)")
            let dump = local + "/" + record.id + ".dump", roles = record.id + ".roles.sql"
            // The record names the roles file's sha256.
            let localRoles = try #require(FileManager.default.contents(atPath: local + "/" + roles))
            #expect(record.rolesSha256 == StreamingSHA256.hex(of: Array(localRoles)), "\(taken.stdoutText)")

            try await RecreatedCluster.with(scene) { cluster in
                #expect(try await cluster.psql("SELECT count(*) FROM pg_roles WHERE rolname = 'ledger_owner'") == "0")
                let config = try cluster.config("backups")
                let restored = try await scene.botops(["restore", dump, "--yes"], config: config)
                #expect(restored.termination == .exited(0), "\(restored.stderrText)")
                #expect(restored.stdoutText.contains("created the roles missing on the server: ledger_owner"), "\(restored.stdoutText)")
                #expect(!(restored.stdoutText + restored.stderrText).contains("SCRAM-SHA-256"), "no password hash printed")
                #expect(try await cluster.psql("SELECT tableowner || ' ' || (SELECT count(*) FROM ledger_owned) FROM pg_tables WHERE tablename = 'ledger_owned'",
                                               database: "bot_trader_db") == "ledger_owner 5")
                #expect(try await cluster.psql("SELECT rolpassword FROM pg_authid WHERE rolname = 'ledger_owner'") == hash, "its password hash from the backup")

                // The role exists with another password: the server's role wins, untouched.
                _ = try await cluster.psql("ALTER ROLE ledger_owner NOLOGIN PASSWORD 'another'")
                let before = try await cluster.psql("SELECT rolcanlogin || ' ' || rolpassword FROM pg_authid WHERE rolname = 'ledger_owner'")
                let again = try await scene.botops(["restore", record.id, "--yes"], config: config)
                #expect(again.termination == .exited(0), "\(again.stderrText)")
                #expect(!again.stdoutText.contains("created the roles"), "\(again.stdoutText)")
                #expect(try await cluster.psql("SELECT rolcanlogin || ' ' || rolpassword FROM pg_authid WHERE rolname = 'ledger_owner'") == before)
                #expect(before.hasPrefix("false ") && !before.hasSuffix(hash))

                // A roles file altered on the host: refused by restore --test and a full restore, naming the file.
                try await BackupSandbox.sh("printf -- '-- altered\\n' >> " + shellQuote(scene.directory + "/backups/" + roles))
                for arguments in [["restore", record.id, "--test"], ["restore", record.id, "--yes"]] {
                    let refused = try await scene.botops(arguments, config: config)
                    #expect(refused.termination == .exited(1), "\(arguments): \(refused.stderrText)")
                    #expect(refused.stderrText.contains("\(roles) in backup.dir") && refused.stderrText.contains("was altered or damaged since the backup"),
                            "\(arguments): \(refused.stderrText)")
                    #expect(!refused.stderrText.contains("throwaway server from"), "refused before any server starts: \(refused.stderrText)")
                }
                // A record from before botops recorded the sha256: the file is used unchecked, and botops says so.
                try await BackupSandbox.sh("sed -i 's/,\"roles_sha256\":\"[0-9a-f]*\"//' " + shellQuote(scene.directory + "/backups/" + record.id + ".json"))
                let older = try await scene.botops(["restore", record.id, "--test"], config: config)
                #expect(older.termination == .exited(0), "\(older.stderrText)")
                #expect(older.stderrText.contains("the record holds no sha256 of \(roles)") && older.stderrText.contains("used unchecked"), "\(older.stderrText)")
                let plan = try await scene.botops(["restore", record.id, "--dry-run"], config: config)
                #expect(plan.stdoutText.contains("the record holds no sha256 of \(roles)"), "\(plan.stdoutText)")

                // And one altered on this machine is not uploaded.
                try await BackupSandbox.sh("printf -- '-- altered\\n' >> " + shellQuote(local + "/" + roles))
                let upload = try await scene.botops(["restore", dump, "--yes"], config: try cluster.config("fresh"))
                #expect(upload.termination == .exited(1), "\(upload.stderrText)")
                #expect(upload.stderrText.contains("was altered or damaged since the backup") && upload.stderrText.contains("nothing was uploaded"), "\(upload.stderrText)")
                #expect(scene.files(in: scene.directory + "/fresh") == [])
            }
        }
    }
}
