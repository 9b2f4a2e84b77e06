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

/// A roles file is not trusted with the server: a record that names no sha256 of it (or one
/// rewritten with it) lets any file through, so what the file says is data, never SQL, and no
/// role it creates gets what would make it the server's master.
extension BackupSandboxTests {
    @Test func aTamperedRolesFileRunsNoSqlOnTheServerAndGrantsNoSuperuserPower() async throws {
        try await BackupSandbox.scene { scene in
            let local = scene.directory + "/operator copy"
            let taken = try await scene.botops(["backup", "--no-verify", "--format", "json", "--download", local])
            let record = try #require(BackupRecord.parse(taken.stdoutText), "\(taken.stderrText)")
            let dump = local + "/" + record.id + ".dump", roles = local + "/" + record.id + ".roles.sql"
            // The file, as a tampered one would: a superuser, a member of the server's own
            // superuser and of pg_execute_server_program (a shell on the server), and a psql
            // shell escape writing end-of-data and SQL into what the throwaway server sends back
            // (the pipes of its own shell, whichever fd holds them).
            let tampered = #"""
                CREATE ROLE tampered_super SUPERUSER CREATEROLE REPLICATION BYPASSRLS LOGIN PASSWORD 'known';
                CREATE ROLE tampered_member LOGIN PASSWORD 'known';
                GRANT pg_execute_server_program TO tampered_member;
                GRANT bot_user TO tampered_member;
                CREATE ROLE existing_group;
                GRANT existing_group TO tampered_member;
                \! for f in /proc/[0-9]*/fd/1 /proc/[0-9]*/fd/10; do case $(readlink $f) in pipe:*) printf '\\.\nCOMMIT;\nCREATE ROLE botops_injected SUPERUSER;\n' >$f;; esac; done 2>/dev/null

                """#
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: roles))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(tampered.utf8))
            try handle.close()
            // A record that holds no sha256 of the file (older, or rewritten by whoever altered it).
            try await BackupSandbox.sh("sed -i 's/,\"roles_sha256\":\"[0-9a-f]*\"//' " + shellQuote(local + "/" + record.id + ".json"))

            // A throwaway an earlier restore left (killed in this step): the next one removes it.
            let leftover = "botops-roles-20200101t000000z"
            _ = try await BackupSandbox.sh("docker run -d --name \(leftover) --network none --entrypoint sleep $(docker inspect -f '{{.Config.Image}}' db) 600")
            var failure: Error?
            do { try await RecreatedCluster.with(scene) { cluster in
                // A role of the server's that is itself a member of its superuser: SET ROLE goes through it.
                _ = try await cluster.psql("CREATE ROLE existing_group NOLOGIN; GRANT bot_user TO existing_group")
                let restored = try await scene.botops(["restore", dump, "--yes"], config: try cluster.config("tampered"))
                #expect(try await BackupSandbox.sh("docker ps -aq --filter name=^\(leftover)$") == "", "the leftover throwaway is removed")
                #expect(try await cluster.psql("SELECT count(*) FROM pg_roles WHERE rolname = 'botops_injected'") == "0", "no SQL of the file ran on the server")
                #expect(restored.termination == .exited(0), "\(restored.stderrText)")
                #expect(try await cluster.psql("SELECT rolsuper || ' ' || rolcreaterole || ' ' || rolreplication || ' ' || rolbypassrls || ' ' || rolcanlogin "
                                               + "FROM pg_roles WHERE rolname = 'tampered_super'") == "false false false false true")
                #expect(try await cluster.psql("SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = 'tampered_member'") == "0",
                        "no membership in a superuser, a pg_ role or a member of one")
                #expect(restored.stdoutText.contains("tampered_super (SUPERUSER, CREATEROLE, REPLICATION, BYPASSRLS)"), "\(restored.stdoutText)")
                #expect(restored.stdoutText.contains("tampered_member (member of bot_user, existing_group, pg_execute_server_program)"), "\(restored.stdoutText)")
                _ = try? await cluster.psql("DROP ROLE IF EXISTS botops_injected")
            } } catch { failure = error }
            _ = try? await BackupSandbox.sh("docker rm -f \(leftover) >/dev/null 2>&1")
            if let failure { throw failure }
        }
    }
}

extension BackupSandboxTests {
    /// A backup taken while `setup` holds on the sandbox's server (`undo` after), uploaded into a
    /// recreated cluster's backup.dir `dir` and planned in-process: `body` runs the plan.
    static func plannedOnRecreatedCluster(_ scene: BackupSandbox, setup: String, undo: String, dir: String,
                                          _ body: @escaping (RecreatedCluster, RestoreJob, RestoreJob.Plan) async throws -> Void) async throws {
        let local = scene.directory + "/operator copy"
        _ = try await BackupSandbox.psql(setup)
        let taken: CommandResult
        do {
            taken = try await scene.botops(["backup", "--no-verify", "--format", "json", "--download", local])
        } catch {
            _ = try? await BackupSandbox.psql(undo)
            throw error
        }
        _ = try await BackupSandbox.psql(undo)
        let record = try #require(BackupRecord.parse(taken.stdoutText), "\(taken.stderrText)")
        try await RecreatedCluster.with(scene) { cluster in
            let configPath = try cluster.config(dir)
            // Uploaded into this cluster's backup.dir (the plan only).
            _ = try await scene.botops(["restore", local + "/" + record.id + ".dump", "--dry-run"], config: configPath)
            let config = try BotOpsConfig.load(path: configPath)
            let host = try await SSHConnection.connect(to: try scene.sandbox.target())
            try await host.closing {
                let entry = try #require(try await BackupCatalog(config: config, runner: host).entries().first { $0.record.id == record.id })
                let job = RestoreJob(config: config, runner: host)
                try await body(cluster, job, try await job.plan(entry))
            }
        }
    }

    /// Ctrl-C while the roles are created: that step runs to its end (only pg_restore's session is
    /// ended), so the message says which roles were created and stay, not "nothing live changed".
    @Test func aRestoreInterruptedAfterCreatingRolesSaysTheyStay() async throws {
        try await BackupSandbox.scene { scene in
            try await Self.plannedOnRecreatedCluster(scene, setup: "CREATE ROLE ledger_keeper NOLOGIN; CREATE TABLE ledger_kept (id int); ALTER TABLE ledger_kept OWNER TO ledger_keeper",
                                                     undo: "DROP TABLE IF EXISTS ledger_kept; DROP ROLE IF EXISTS ledger_keeper", dir: "interrupted") { (cluster: RecreatedCluster, job: RestoreJob, plan: RestoreJob.Plan) async throws in
                let interruption = Interruption()
                let error = await #expect(throws: RestoreError.self) {
                    _ = try await job.run(plan, interruption: interruption) { step, _ in
                        if step == .restore { interruption.request(SIGINT) }
                    }
                }
                let message = error.map(String.init(describing:)) ?? ""
                #expect(try await cluster.psql("SELECT count(*) FROM pg_roles WHERE rolname = 'ledger_keeper'") == "1")
                #expect(message.contains("created the roles missing on the server: ledger_keeper") && message.contains("(they stay)"), "\(message)")
                #expect(!message.contains("nothing live changed"), "\(message)")
            }
        }
    }

    /// The roles file checked by the plan and changed before the restore reads it: the step reads
    /// a copy checked again, so the changed file creates no role.
    @Test func aRolesFileChangedAfterThePlanCreatesNoRole() async throws {
        try await BackupSandbox.scene { scene in
            try await Self.plannedOnRecreatedCluster(scene, setup: "CREATE ROLE ledger_checked NOLOGIN", undo: "DROP ROLE IF EXISTS ledger_checked", dir: "changed") { (cluster: RecreatedCluster, job: RestoreJob, plan: RestoreJob.Plan) async throws in
                #expect(plan.roles == .intact)
                // Between the check and the use: one more role in the file.
                try await BackupSandbox.sh("printf 'CREATE ROLE slipped_in;\\n' >> " + shellQuote(scene.directory + "/changed/" + plan.record.id + ".roles.sql"))
                let error = await #expect(throws: RestoreError.self) { _ = try await job.run(plan) { _, _ in } }
                #expect(error.map(String.init(describing:))?.contains("changed since it was checked") == true, "\(String(describing: error))")
                #expect(try await cluster.psql("SELECT count(*) FROM pg_roles WHERE rolname IN ('slipped_in', 'ledger_checked')") == "0")
            }
        }
    }
}
