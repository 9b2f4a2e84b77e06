import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// `botops recover` on the real sandbox host, broken in the runbook's ways all at once.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct RecoverSandboxTests {
    static let userLine = "17 3 * * * /usr/bin/true # the operator's own line, kept byte for byte"

    /// A crontab.d holding only the shipped weekly review entry, the one the breakages touch.
    static func weeklyReviewCrontabDirectory() throws -> URL {
        let directory = try temporaryDirectory()
        try FileManager.default.copyItem(atPath: HostScene.repositoryRoot.appendingPathComponent("crontab.d/weekly-strategy-review.cron").path,
                                         toPath: directory.appendingPathComponent("weekly-strategy-review.cron").path)
        return directory
    }

    /// trade_records' row count and a checksum over every row.
    static func fingerprint(_ scene: HostScene) async throws -> String {
        let sql = "SELECT count(*) || ' ' || md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM trade_records t"
        return try await scene.sh(shellCommand(["docker", "exec", "db", "psql", "-X", "-At", "-U", "bot_user", "-d", "bot_trader_db", "-c", sql]))
    }

    /// What a second recover must leave exactly as it was.
    static func hostState(_ scene: HostScene, app: String) async throws -> String {
        try await scene.sh("""
            crontab -l | md5sum; cd \(app) && git rev-parse HEAD && git status --porcelain && stat -c '%a %n' weekly_strategy_review.sh queries/* && ls -d logs
            docker inspect -f '{{.Name}} {{.Id}} {{.State.StartedAt}} {{.State.Status}}' db sighook webhook report-job
            """)
    }

    @Test func everyBreakageAtOnceIsRepairedLosingNothingAndASecondRunChangesNothing() async throws {
        let sandbox = try Sandbox.require()
        let app = shellQuote(sandbox.app)
        let crontabDirectory = try Self.weeklyReviewCrontabDirectory()
        var originalCrontab = ""
        try await HostScene.run({ scene in
            originalCrontab = try await scene.sh("crontab -l | base64 -w0")
            try await scene.sh("mkdir -p \(scene.stateFile("")) && cp -a \(app)/logs \(scene.stateFile("logs-before-test"))")
            let database = try await Self.fingerprint(scene)
            let recover = ["recover", "--crontab-dir", crontabDirectory.path, "--format", "json"]
            try await scene.sh("{ crontab -l; echo \(shellQuote(Self.userLine)); } | crontab -")
            // A first run on the healthy host installs the managed entry: its crontab backup holds the user's lines.
            let first = try await scene.botops(recover + ["--yes"])
            #expect(first.termination == .exited(0), "\(first.stdoutText)\n\(first.stderrText)")
            let crontabBefore = try await scene.sh("crontab -l")

            try await scene.sh("""
                cd \(app) && rm queries/weekly_signal_quality.sql && chmod -x weekly_strategy_review.sh && rm -rf logs \
                  && printf 'a local edit\\n' >> VERSION && printf 'an untracked note\\n' > notes-from-the-operator.txt
                crontab -r && docker stop webhook >/dev/null && docker pause db >/dev/null
                """)

            // Without --yes: diagnosed, the plan printed, nothing changed, exit 4.
            let refused = try await scene.botops(["recover", "--crontab-dir", crontabDirectory.path])
            #expect(refused.termination == .exited(4), "\(refused.stdoutText)")
            #expect(refused.stdoutText.contains("broken: tracked files changed or missing"), "\(refused.stdoutText)")
            #expect(refused.stdoutText.contains("broken: the crontab is empty (removed?)"))
            #expect(refused.stdoutText.contains("broken: the database container db is paused"))
            #expect(refused.stdoutText.contains("broken: webhook is exited"))
            #expect(refused.stdoutText.contains("git restore --source=HEAD --worktree"), "the plan names the commands")
            #expect(try await scene.sh("cd \(app) && git status --porcelain --untracked-files=no").contains("VERSION"), "nothing was changed")

            let repaired = try await scene.botops(recover + ["--yes"])
            #expect(repaired.termination == .exited(0), "\(repaired.stdoutText)\n\(repaired.stderrText)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(repaired.stdoutText.utf8)) as? [String: Any])
            #expect(report["result"] as? String == "repaired")
            let checks = try #require(report["checks"] as? [[String: String]])
            #expect(checks.count == 9 && checks.allSatisfy { $0["status"] == "pass" }, "\(checks)")
            let steps = try #require(report["steps"] as? [[String: Any]]).compactMap { $0["name"] as? String }
            #expect(steps == ["diagnose", "files", "cron", "modes", "database", "checks"])
            let saved = try #require(report["saved"] as? String)

            // The user's own line is back byte for byte, beside the managed entry.
            #expect(try await scene.sh("crontab -l") == crontabBefore)
            // Nothing lost: the local edit applies back from the saved patch, the note is in the saved tar (and still in place).
            let directory = saved.hasPrefix("~/") ? "\"$HOME\"/" + shellQuote(String(saved.dropFirst(2))) : shellQuote(saved)
            try await scene.sh("cd \(app) && git apply \(directory)/changes.patch && grep -q 'a local edit' VERSION && [ ! -e queries/weekly_signal_quality.sql ]")
            try await scene.sh("cd \(app) && git checkout -q -- . && tar -tf \(directory)/untracked.tar | grep -qx notes-from-the-operator.txt && [ -f notes-from-the-operator.txt ]")
            try await scene.sh("cd \(app) && rm notes-from-the-operator.txt")
            #expect(try await Self.fingerprint(scene) == database, "trade_records changed")

            // A second run: nothing to do, and the host is exactly as it was.
            let before = try await Self.hostState(scene, app: app)
            let again = try await scene.botops(recover + ["--yes"])
            #expect(again.termination == .exited(0), "\(again.stdoutText)")
            let second = try #require(try JSONSerialization.jsonObject(with: Data(again.stdoutText.utf8)) as? [String: Any])
            #expect(second["result"] as? String == "healthy")
            let statuses = try #require(second["steps"] as? [[String: Any]]).compactMap { $0["status"] as? String }
            #expect(statuses.dropLast() == ["nothing-to-do", "nothing-to-do", "nothing-to-do", "nothing-to-do", "nothing-to-do"], "\(statuses)")
            #expect(try await Self.hostState(scene, app: app) == before)
            let audit = try await scene.sh("tail -n 3 \(scene.stateFile("audit.jsonl"))")
            #expect(audit.split(separator: "\n").filter { $0.contains("\"action\":\"recover\"") }.count == 3, "\(audit)")
        }, cleanup: { scene in
            try await scene.sh("""
                docker unpause db >/dev/null 2>&1; docker start webhook >/dev/null 2>&1
                cd \(app) && git checkout -q -- . && chmod +x weekly_strategy_review.sh && rm -f notes-from-the-operator.txt
                rm -rf logs && cp -a \(scene.stateFile("logs-before-test")) logs
                printf '%s' \(shellQuote(originalCrontab)) | base64 -d | crontab -
                for i in $(seq 1 120); do [ "$(docker inspect -f '{{.State.Health.Status}}' webhook)" = healthy ] && [ "$(docker inspect -f '{{.State.Health.Status}}' db)" = healthy ] && exit 0; sleep 0.5; done; exit 1
                """)
        })
    }
}

/// The ledger's tables dropped, for real: recover must stop before touching the database, name the
/// newest verified backup and print the exact restore command; that command brings the ledger and
/// the nine checks back. The host is left as found: the `_replaced_` database the restore made is
/// dropped (only that one), and if the restore did not happen the dump puts the ledger back by hand.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct RecoverDataLossTests {
    static func psql(_ scene: HostScene, _ sql: String, database: String = "bot_trader_db") async throws -> String {
        try await scene.sh(shellCommand(["docker", "exec", "db", "psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-U", "bot_user", "-d", database, "-c", sql]))
    }

    static func restoreDatabases(_ scene: HostScene) async throws -> Set<String> {
        Set(try await psql(scene, #"SELECT datname FROM pg_database WHERE datname LIKE 'bot\_trader\_db\_replaced\_%' OR datname LIKE 'botops\_restore\_%'"#,
                           database: "postgres").split(separator: "\n").map(String.init))
    }

    @Test func droppedLedgerTablesStopRecoverAndTheRestoreCommandItPrintsBringsThemBack() async throws {
        var existing: Set<String> = []
        var dump = ""
        try await HostScene.run({ scene in
            existing = try await Self.restoreDatabases(scene)
            let backup = try await scene.botops(["backup", "--format", "json"])
            let record = try #require(BackupRecord.parse(backup.stdoutText), "\(backup.stdoutText)\n\(backup.stderrText)")
            try #require(record.status == .verified)
            dump = scene.stateFile("backups/" + record.id + ".dump")
            try await Self.psql(scene, "DROP TABLE trade_strategy_link; DROP TABLE trade_records CASCADE")
            let before = try await scene.sh("docker inspect -f '{{.State.StartedAt}}' db sighook webhook report-job")

            let result = try await scene.botops(["recover", "--yes"])
            #expect(result.termination == .exited(1), "\(result.stdoutText)\n\(result.stderrText)")
            #expect(result.stdoutText.contains("ledger tables are gone (db-connectivity, trade-linkage"), "\(result.stdoutText)")
            #expect(result.stdoutText.contains("database  stopped"), "\(result.stdoutText)")
            #expect(try await scene.sh("docker inspect -f '{{.State.StartedAt}}' db sighook webhook report-job") == before, "nothing was restarted")
            let next = try #require(result.stdoutText.split(separator: "\n").first { $0.hasPrefix("  next: botops restore ") }, "\(result.stdoutText)")
            #expect(next == "  next: botops restore \(record.id) --yes")

            // The printed command, as printed, brings the ledger back and the nine checks pass.
            let restore = try await scene.botops(next.dropFirst("  next: botops ".count).split(separator: " ").map(String.init))
            #expect(restore.termination == .exited(0), "\(restore.stdoutText)\n\(restore.stderrText)")
            for table in ["trade_records", "trade_strategy_link"] {
                let recorded = try #require(record.tables.first { $0.name == table })
                #expect(Int64(try await Self.psql(scene, "SELECT count(*) FROM \(table)")) ?? -1 >= recorded.rows, "\(table) is back")
            }
            let verify = try await scene.botops(["verify"])
            #expect(verify.termination == .exited(0), "\(verify.stdoutText)\n\(verify.stderrText)")
        }, cleanup: { scene in
            for name in try await Self.restoreDatabases(scene).subtracting(existing) {
                try await scene.sh("docker exec db dropdb -U bot_user \(shellQuote(name))")
            }
            if try await Self.psql(scene, "SELECT count(*) FROM pg_tables WHERE tablename IN ('trade_records', 'trade_strategy_link')") != "2", !dump.isEmpty {
                try await scene.sh("docker exec -i db pg_restore --clean --if-exists -U bot_user -d bot_trader_db < \(dump)")
            }
            try await scene.sh("for i in $(seq 1 120); do [ \"$(docker inspect -f '{{.State.Health.Status}}' db sighook webhook report-job | sort -u)\" = healthy ] && exit 0; sleep 0.5; done; exit 1")
        })
    }
}

/// The db container removed (its volume kept): recover recreates it with `compose up -d` in the
/// stack's own compose project, on the same volume, and the ledger is as it was. Run with the
/// stack as the project compose derives and as another one (the user's host runs bottrader-aws
/// from a checkout named otherwise): the project comes from the services' containers, since the
/// db container's labels went with it.
/// botops.yml names a database that does not exist: psql says "does not exist" as it does for a
/// dropped table, but nothing of the ledger is gone and no restore is offered (nothing on the host
/// is changed: the test's own botops.yml is the only thing wrong).
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct RecoverMisnamedDatabaseTests {
    @Test func aDatabaseThatDoesNotExistIsNotCalledLostTables() async throws {
        try await HostScene.run({ scene in
            try scene.replaceInConfig("name: bot_trader_db}", with: "name: botops_no_such_db}")
            let result = try await scene.botops(["recover", "--yes"])
            #expect(result.termination == .exited(1), "\(result.stdoutText)\n\(result.stderrText)")
            #expect(result.stdoutText.contains("database \"botops_no_such_db\" does not exist"), "\(result.stdoutText)")
            #expect(!result.stdoutText.contains("ledger tables are gone"), "\(result.stdoutText)")
        }, cleanup: { _ in })
    }
}

@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct RecoverRemovedDatabaseTests {
    static func restack(_ project: String?) async throws {
        let script = HostScene.repositoryRoot.appendingPathComponent("scripts/sandbox").path
        let result = try await LocalHost().run(shellCommand([script, "restack"] + (project.map { [$0] } ?? [])), timeout: .seconds(600))
        guard result.succeeded else { throw SceneFailure("scripts/sandbox restack \(project ?? "") failed: \(result.stderrText.suffix(500))") }
    }

    @Test(arguments: [nil, "bottrader-aws"] as [String?])
    func aRemovedDatabaseContainerIsRecreatedOnItsVolume(project: String?) async throws {
        try await HostScene.run({ scene in
            if project != nil { try await Self.restack(project) }
            let running = try await scene.sh(#"docker inspect -f '{{index .Config.Labels "com.docker.compose.project"}}' db"#)
            let ledger = try await RecoverSandboxTests.fingerprint(scene)
            let volumes = try await scene.sh("docker volume ls -q | sort")
            try await scene.sh("docker stop db >/dev/null && docker rm db >/dev/null")

            let result = try await scene.botops(["recover", "--yes", "--format", "json"])
            #expect(result.termination == .exited(0), "\(result.stdoutText)\n\(result.stderrText)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdoutText.utf8)) as? [String: Any], "\(result.stdoutText)")
            #expect((report["broken"] as? [String])?.contains("the database container db is missing") == true, "\(report["broken"] ?? "")")
            #expect(try await scene.sh(#"docker inspect -f '{{index .Config.Labels "com.docker.compose.project"}} {{range .Mounts}}{{.Name}}{{end}}' db"#)
                    == "\(running) bottrader-aws_pg_data", "the same project, the same volume")
            #expect(try await scene.sh("docker volume ls -q | sort") == volumes, "no volume was created")
            #expect(try await RecoverSandboxTests.fingerprint(scene) == ledger)
        }, cleanup: { scene in
            // A db still missing is recreated in the variant's project first: restack moves the
            // stack by the db's project label, so without it the services would stay behind.
            if try await scene.sh("docker ps -aq --filter name=^db$") == "" { try await Self.restack(project) }
            if project != nil { try await Self.restack(nil) }
        })
    }
}

/// The volume deleted, on a throwaway compose project of the test's own (the sandbox's volume is
/// never touched): recover stops before creating anything, says the volume is gone and prints the
/// restore command of the newest verified backup. No container and no volume appear.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct RecoverDeletedVolumeTests {
    /// A compose project of the test's own whose database is container NAME-db on volume
    /// NAME-data (never created here unless `volumeExists`), and a verified backup record; then
    /// `botops recover --yes`, whose result `check` judges. Nothing of it is left afterwards.
    func recover(image: String, volumeExists: Bool, namedVolume: Bool = true, setUp: (HostScene, String) async throws -> Void = { _, _ in },
                 check: (CommandResult, String) async throws -> Void) async throws {
        let app = shellQuote(try Sandbox.require().app)
        let name = "botops-test-\(UUID().uuidString.prefix(8).lowercased())"
        try await HostScene.run({ scene in
            // Inside the checkout, as compose.file must be: in logs/, which git ignores and recover never touches.
            let file = "logs/\(name)-compose.yml"
            try await scene.sh("""
                cat > \(app)/\(file) <<'EOF'
                services:
                  ledger:
                    image: \(image)
                    container_name: \(name)-db
                    network_mode: none
                    volumes: [data:/var/lib/postgresql/data]
                volumes:
                  data: {\(namedVolume ? "name: \(name)-data" : "")}
                EOF
                """)
            if volumeExists { try await scene.sh("docker volume create \(name)-data >/dev/null") }
            try await setUp(scene, name)
            try scene.replaceInConfig("database: {container: db,", with: "database: {container: \(name)-db,")
            try scene.replaceInConfig("file: docker-compose.aws.yml", with: "file: \(file)")
            let id = "20261130T000000Z"
            let record = #"{"version":1,"id":"\#(id)","time":"2026-11-30T00:00:00Z","label":null,"database":"bot_trader_db","server_version":"15","size":1,"sha256":"x","toc_digest":"y","status":"verified","status_reason":null,"keep":false,"pushed":null,"tables":[],"sequences":[]}"#
            try await scene.sh("mkdir -p \(scene.stateFile("backups")) && printf '%s' \(shellQuote(record)) > \(scene.stateFile("backups/\(id).json")) && printf x > \(scene.stateFile("backups/\(id).dump"))")

            let result = try await scene.botops(["recover", "--yes"])
            #expect(result.termination == .exited(1), "\(result.stdoutText)\n\(result.stderrText)")
            #expect(result.stdoutText.contains("database  stopped"), "\(result.stdoutText)")
            #expect(try await scene.sh("docker ps -aq --filter name=\(name)") == "", "no container was created")
            try await check(result, name)
        }, cleanup: { scene in
            _ = try? await scene.sh("rm -f \(app)/logs/\(name)-compose.yml; docker rm -f \(name)-db >/dev/null 2>&1; docker volume rm \(name)-data \(name)_data >/dev/null 2>&1; true")
        })
    }

    @Test func aDeletedVolumeStopsRecoverWithTheRestoreCommandAndCreatesNothing() async throws {
        try await recover(image: "botops-base:bookworm", volumeExists: false) { result, name in
            #expect(result.stdoutText.contains("the database volume \(name)-data is gone; recover starts nothing on it"), "\(result.stdoutText)")
            #expect(result.stdoutText.contains("next: botops restore 20261130T000000Z --yes"), "\(result.stdoutText)")
            let volumes = try await LocalHost().run("docker volume ls -q --filter name=\(name)")
            #expect(volumes.stdoutText.isEmpty, "no volume was created")
        }
    }

    /// No container of the stack is left (so no project label to read), and the compose file
    /// keeps the data on a plain named volume: compose's derived name is absent, but the volume
    /// of that key exists in another project. That is not data loss, and no restore is offered.
    @Test func aVolumeOfTheSameKeyInAnotherProjectIsNotCalledGone() async throws {
        try await recover(image: "botops-base:bookworm", volumeExists: false, namedVolume: false, setUp: { scene, name in
            // The services are the test's own, absent ones: nothing names the stack's project.
            try scene.replaceInConfig("services: [sighook, webhook, report-job]", with: "services: [\(name)-app]")
            try await scene.sh("docker volume create --label com.docker.compose.project=\(name) --label com.docker.compose.volume=data \(name)_data >/dev/null")
        }) { result, name in
            #expect(!result.stdoutText.contains("is gone"), "\(result.stdoutText)")
            #expect(!result.stdoutText.contains("botops restore 20261130T000000Z"), "\(result.stdoutText)")
            #expect(result.stdoutText.contains("\(name)_data (compose project \(name)) does"), "\(result.stdoutText)")
        }
    }

    /// An image that is not on the host: the volume check pulls nothing and says it could not
    /// tell, rather than calling the volume empty and sending the operator to a restore.
    @Test func aVolumeThatCannotBeLookedIntoIsUnknownNotLostAndNothingIsPulled() async throws {
        let image = "botops-test-absent/ledger:\(UUID().uuidString.prefix(8).lowercased())"
        try await recover(image: image, volumeExists: true) { result, name in
            #expect(result.stdoutText.contains("recover could not tell what the database volume \(name)-data holds (the image \(image) is not on the host"),
                    "\(result.stdoutText)")
            #expect(!result.stdoutText.contains("botops restore 20261130T000000Z"), "\(result.stdoutText)")
            let inspected = try await LocalHost().run("docker image inspect \(image)")
            #expect(!inspected.succeeded, "the image was pulled")
        }
    }
}

/// A full disk where recover saves local changes: it must stop before restoring anything.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct RecoverDiskFullTests {
    @Test func whenTheSaveFailsNoTrackedFileIsRestored() async throws {
        let app = shellQuote(try Sandbox.require().app)
        var mountPoint = ""
        try await HostScene.run({ scene in
            // The sandbox host is this machine: a 64 KB tmpfs where recover/ goes, filled up.
            mountPoint = try await scene.sh("mkdir -p \(scene.stateFile("recover")) && cd \(scene.stateFile("recover")) && pwd")
            _ = try await LocalHost().run("mount -t tmpfs -o size=64k,mode=0777 botops-full \(shellQuote(mountPoint))")
            try await scene.sh("dd if=/dev/zero of=\(shellQuote(mountPoint))/fill bs=4k 2>/dev/null; [ \"$(df -Pk \(shellQuote(mountPoint)) | awk 'NR==2 {print $4}')\" -eq 0 ]")
            try await scene.sh("cd \(app) && printf 'a local edit that must survive\\n' >> VERSION")
            let result = try await scene.botops(["recover", "--yes"])
            #expect(result.termination == .exited(1), "\(result.stdoutText)\n\(result.stderrText)")
            #expect(result.stdoutText.contains("files     stopped"), "\(result.stdoutText)")
            #expect(result.stdoutText.contains("so no tracked file was restored"), "\(result.stdoutText)")
            #expect(try await scene.sh("grep -c 'a local edit that must survive' \(app)/VERSION") == "1", "the edit is still in place")
        }, cleanup: { scene in
            if !mountPoint.isEmpty { _ = try await LocalHost().run("umount \(shellQuote(mountPoint))") }
            try await scene.sh("cd \(app) && git checkout -q -- VERSION")
        })
    }
}

/// examples/emergency-recover.sh, the runbook's emergency script on top of botops, run for real.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct EmergencyScriptTests {
    @Test func theExampleScriptRepairsAStoppedServiceAndALostModeAndExitsZero() async throws {
        let app = shellQuote(try Sandbox.require().app)
        try await HostScene.run({ scene in
            try await scene.sh("cd \(app) && chmod -x weekly_strategy_review.sh && docker stop report-job >/dev/null")
            let directory = URL(fileURLWithPath: scene.config).deletingLastPathComponent().path
            let script = HostScene.repositoryRoot.appendingPathComponent("examples/emergency-recover.sh").path
            let result = try await LocalHost().run("cd \(shellQuote(directory)) && BOTOPS=\(shellQuote(BuiltBinary.botops.path)) sh \(shellQuote(script))",
                                                   timeout: .seconds(300))
            #expect(result.termination == .exited(0), "\(result.stdoutText)\n\(result.stderrText)")
            #expect(result.stdoutText.contains("report-job  running"), "botops status ends the script: \(result.stdoutText)")
            #expect(try await scene.sh("[ -x \(app)/weekly_strategy_review.sh ] && docker inspect -f '{{.State.Status}}' report-job") == "running")
        }, cleanup: { scene in
            try await scene.sh("""
                chmod +x \(app)/weekly_strategy_review.sh; docker start report-job >/dev/null
                for i in $(seq 1 120); do [ "$(docker inspect -f '{{.State.Health.Status}}' report-job)" = healthy ] && exit 0; sleep 0.5; done; exit 1
                """)
        })
    }
}

/// `crontab -l` failing for another reason than "no crontab" (status 2 here, from a `crontab`
/// first on PATH that fails only inside recover's diagnosis) must not be taken for an emptied
/// crontab: recover used to put its newest backup over the current crontab, dropping every line
/// added since.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct RecoverUnreadableCrontabTests {
    @Test func anUnreadableCrontabIsLeftByteForByte() async throws {
        let sandbox = try Sandbox.require()
        let fake = FileManager.default.temporaryDirectory.appendingPathComponent("botops-crontab-fails-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: fake, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: fake) }
        let shim = fake.appendingPathComponent("crontab")
        try writeExecutable("""
            #!/bin/sh
            if [ "$1" = -l ] && grep -qF 'docker info >/dev/null 2>&1 && echo running' /proc/$PPID/cmdline 2>/dev/null; then
              echo 'crontab: cannot read the spool (test)' >&2; exit 2
            fi
            exec /usr/bin/crontab "$@"
            """, to: shim.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
        var original = ""
        try await HostScene.run({ scene in
            original = try await scene.sh("crontab -l | base64 -w0")
            // A backup holding a line of the user's own, then a line added since.
            try await scene.sh("""
                mkdir -p \(scene.stateFile("crontab-backups")) && { crontab -l; echo \(shellQuote(RecoverSandboxTests.userLine)); } > \(scene.stateFile("crontab-backups/crontab-20261201T000000.000000000Z.txt"))
                { crontab -l; echo \(shellQuote(RecoverSandboxTests.userLine)); echo '23 4 * * * /usr/bin/true # added after the backup'; } | crontab -
                """)
            let before = try await scene.sh("crontab -l | base64 -w0")
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: URL(fileURLWithPath: scene.config).deletingLastPathComponent().path)
            let path = fake.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            let result = try await BuiltBinary.botops.run(["recover", "--local", "--yes", "--config", scene.config],
                                                          prefix: ["runuser", "-u", sandbox.value("SANDBOX_USER"), "--", "env", "PATH=\(path)"])
            #expect(try await scene.sh("crontab -l | base64 -w0") == before, "\(result.stdoutText)\n\(result.stderrText)")
            #expect(result.stdoutText.contains("the crontab cannot be read (crontab -l exited 2"), "\(result.stdoutText)")
            #expect(result.termination == .exited(1), "\(result.stdoutText)\n\(result.stderrText)")
        }, cleanup: { _ in
            _ = try await LocalHost().run("printf '%s' \(shellQuote(original)) | base64 -d | runuser -u \(shellQuote(sandbox.value("SANDBOX_USER"))) -- crontab -")
        })
    }
}

/// Untracked things where tracked paths go back, named with a space, a quote, a newline and
/// `$(…)`, through the real sshd: `git restore` would delete a directory standing where a tracked
/// file goes (with the ignored files in it, which no tar holds) and unlink a file standing where a
/// tracked directory goes. recover must move them aside, byte for byte, before restoring.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct RecoverBlockingPathTests {
    static let oddName = "operator's notes\nwith a newline $(touch pwned) .txt"

    @Test func blockingFilesAndDirectoriesAreMovedAsideBeforeTheRestore() async throws {
        let app = shellQuote(try Sandbox.require().app)
        try await HostScene.run({ scene in
            try await scene.sh("""
                cd \(app) && rm VERSION && mkdir -p VERSION/logs && printf 'mine\\n' > VERSION/\(shellQuote(Self.oddName)) \
                  && printf 'ignored by .gitignore\\n' > VERSION/logs/run.txt && rm -r queries && printf 'a file where queries/ goes\\n' > queries
                """)
            let result = try await scene.botops(["recover", "--yes", "--format", "json"])
            #expect(result.termination == .exited(0), "\(result.stdoutText)\n\(result.stderrText)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdoutText.utf8)) as? [String: Any])
            let saved = try #require(report["saved"] as? String)
            let directory = saved.hasPrefix("~/") ? "\"$HOME\"/" + shellQuote(String(saved.dropFirst(2))) : shellQuote(saved)
            #expect(try await scene.sh("cd \(app) && git status --porcelain --untracked-files=no && [ -f VERSION ] && [ -d queries ] && echo restored") == "restored")
            #expect(try await scene.sh("cat \(directory)/blocking/VERSION/\(shellQuote(Self.oddName))") == "mine")
            #expect(try await scene.sh("cat \(directory)/blocking/VERSION/logs/run.txt") == "ignored by .gitignore")
            #expect(try await scene.sh("cat \(directory)/blocking/queries") == "a file where queries/ goes")
            #expect(try await scene.sh("cd \(app) && ls -a; ls -a \"$HOME\"").contains("pwned") == false)
        }, cleanup: { scene in
            try await scene.sh("cd \(app) && if [ ! -f VERSION ]; then rm -rf VERSION; fi && if [ ! -d queries ]; then rm -f queries; fi && git checkout -q -- . && rm -f pwned")
        })
    }
}

/// The runbook's breakages one at a time: each time recover brings the nine checks back and the
/// ledger is untouched.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct RecoverOneBreakageTests {
    struct Breakage: Sendable, CustomTestStringConvertible {
        var name: String
        /// Run in the checkout, as the ssh user; `$STATE` is the test's state directory.
        var script: String
        /// Must hold afterwards (run in the checkout).
        var after: String = "true"
        var testDescription: String { name }
    }

    static let breakages = [
        Breakage(name: "script deleted", script: "rm weekly_strategy_review.sh", after: "[ -x weekly_strategy_review.sh ]"),
        Breakage(name: "queries/ deleted", script: "rm -r queries", after: "[ -f queries/weekly_signal_quality.sql ]"),
        Breakage(name: "logs/ deleted", script: "rm -rf logs", after: "[ -d logs ]"),
        Breakage(name: "crontab -r with the user's own lines",
                 script: "{ crontab -l; echo \(shellQuote(RecoverSandboxTests.userLine)); } | crontab - && mkdir -p \"$STATE\"/crontab-backups && crontab -l > \"$STATE\"/crontab-backups/crontab-20261201T000000.000000000Z.txt && crontab -r",
                 after: "crontab -l | grep -qxF \(shellQuote(RecoverSandboxTests.userLine))"),
        Breakage(name: "script chmod -x", script: "chmod -x weekly_strategy_review.sh", after: "[ -x weekly_strategy_review.sh ]"),
        Breakage(name: "db stopped", script: "docker stop db >/dev/null"),
        Breakage(name: "db paused", script: "docker pause db >/dev/null"),
        Breakage(name: "tracked edit and an untracked file", script: "printf 'edit\\n' >> VERSION && printf 'note\\n' > note-by-test.txt",
                 after: "git diff --quiet HEAD && [ -f note-by-test.txt ]"),
        Breakage(name: "a service left stopped", script: "docker stop sighook >/dev/null"),
    ]

    @Test(arguments: breakages)
    func recoverBringsTheNineChecksBack(_ breakage: Breakage) async throws {
        let app = shellQuote(try Sandbox.require().app)
        let crontabDirectory = try RecoverSandboxTests.weeklyReviewCrontabDirectory()
        var originalCrontab = ""
        try await HostScene.run({ scene in
            originalCrontab = try await scene.sh("crontab -l | base64 -w0")
            try await scene.sh("mkdir -p \(scene.stateFile("")) && cp -a \(app)/logs \(scene.stateFile("logs-before-test"))")
            let ledger = try await RecoverSandboxTests.fingerprint(scene)
            try await scene.sh("cd \(app) && STATE=\(scene.stateFile("")) && \(breakage.script)")
            let result = try await scene.botops(["recover", "--crontab-dir", crontabDirectory.path, "--format", "json", "--yes"])
            #expect(result.termination == .exited(0), "\(result.stdoutText)\n\(result.stderrText)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdoutText.utf8)) as? [String: Any], "\(result.stdoutText)")
            let checks = try #require(report["checks"] as? [[String: String]])
            #expect(checks.count == 9 && checks.allSatisfy { $0["status"] == "pass" }, "\(checks)")
            try await scene.sh("cd \(app) && \(breakage.after)")
            #expect(try await RecoverSandboxTests.fingerprint(scene) == ledger)
        }, cleanup: { scene in
            try await scene.sh("""
                docker unpause db >/dev/null 2>&1; docker start db sighook >/dev/null 2>&1
                cd \(app) && git checkout -q -- . && chmod +x weekly_strategy_review.sh && rm -f note-by-test.txt
                rm -rf logs && cp -a \(scene.stateFile("logs-before-test")) logs
                printf '%s' \(shellQuote(originalCrontab)) | base64 -d | crontab -
                for i in $(seq 1 120); do [ "$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}healthy{{end}}' db sighook | sort -u)" = "running healthy" ] && exit 0; sleep 0.5; done; exit 1
                """)
        })
    }
}

/// A deploy holds the lock: recover with --yes only diagnoses, exits 4 naming the holder and its
/// step, and changes nothing (the script it would chmod stays as it is).
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct RecoverUnderTheDeployLockTests {
    @Test func aLiveHolderLeavesRecoverDiagnosingOnly() async throws {
        let app = shellQuote(try Sandbox.require().app)
        try await HostScene.run({ scene in
            let lock = DeployLock(state: StateDirectory(path: scene.stateDirectory), staleAfter: .seconds(7200), runner: scene.host)
            let holder = LockHolder(user: "alice", machine: "laptop", pid: 4242, command: "botops deploy --service sighook",
                                    step: "lock", startedAt: Int(Date().timeIntervalSince1970))
            let held = try await lock.acquire(as: holder, wait: nil)
            held.record(step: "build", revision: "0123456789abcdef0123")
            await held.recorded()
            try await scene.sh("chmod -x \(app)/weekly_strategy_review.sh")
            let result = try await scene.botops(["recover", "--yes"])
            await held.release()
            #expect(result.termination == .exited(4), "\(result.stdoutText)\n\(result.stderrText)")
            #expect(result.stdoutText.contains("the deploy lock is held by alice@laptop (pid 4242): botops deploy --service sighook, step build"), "\(result.stdoutText)")
            #expect(try await scene.sh("[ ! -x \(app)/weekly_strategy_review.sh ] && echo untouched") == "untouched")
        }, cleanup: { _ in
            _ = try await LocalHost().run("chmod +x \(app)/weekly_strategy_review.sh")
        })
    }
}

/// A staged edit: recover restores the working copy from HEAD and leaves the index (the staged
/// edit) as it is; that is a repaired host (exit 0), and a second run saves nothing again.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct RecoverStagedEditTests {
    @Test func aStagedEditIsSavedTheWorkingCopyRestoredAndTheIndexLeftAlone() async throws {
        let app = shellQuote(try Sandbox.require().app)
        try await HostScene.run({ scene in
            try await scene.sh("cd \(app) && printf 'a staged edit\\n' >> VERSION && git add VERSION")
            let first = try await scene.botops(["recover", "--yes", "--format", "json"])
            #expect(first.termination == .exited(0), "\(first.stdoutText)\n\(first.stderrText)")
            #expect(try await scene.sh("cd \(app) && git diff --quiet HEAD -- VERSION && git diff --cached HEAD -- VERSION | grep -c '^+a staged edit'") == "1",
                    "the working copy is HEAD's, the staged edit is still staged")
            let second = try await scene.botops(["recover", "--yes", "--format", "json"])
            #expect(second.termination == .exited(0), "\(second.stdoutText)")
            #expect(try await scene.sh("ls \(scene.stateFile("recover")) | wc -l") == "1", "the second run saved nothing")
        }, cleanup: { _ in
            _ = try await LocalHost().run("runuser -u bot -- git -C \(app) reset -q -- VERSION; runuser -u bot -- git -C \(app) checkout -q -- VERSION")
        })
    }
}

/// recover installs crontab.d as committed at the host's HEAD, not the operator's local copy: here
/// the local one runs the script with an extra argument that must not reach the crontab.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct RecoverCronFromHeadTests {
    /// Commits `file` in crontab.d at the host's HEAD and takes the managed entry out of the
    /// crontab (with `also` run after), then `body`; HEAD, crontab.d and the crontab are put back.
    static func withCrontabDAtHead(_ file: String, _ content: String, also: String = "true", cleanup extra: String = "true",
                                   _ body: (HostScene) async throws -> Void) async throws {
        let app = shellQuote(try Sandbox.require().app)
        var original = ""
        var head = ""
        try await HostScene.run({ scene in
            original = try await scene.sh("crontab -l | base64 -w0")
            head = try await scene.sh("git -C \(app) rev-parse HEAD")
            try await scene.sh("""
                cd \(app) && mkdir crontab.d && printf '%s' \(shellQuote(content)) > crontab.d/\(file) \\
                  && git add crontab.d && git -c user.name=test -c user.email=test@invalid commit -q -m 'crontab.d at HEAD (test)'
                crontab -l | grep -v weekly_strategy_review | crontab -
                \(also)
                """)
            try await body(scene)
        }, cleanup: { scene in
            if !head.isEmpty { try await scene.sh("cd \(app) && git reset -q --hard \(head) && rm -rf crontab.d") }
            if !original.isEmpty { try await scene.sh("printf '%s' \(shellQuote(original)) | base64 -d | crontab -") }
            try await scene.sh(extra)
        })
    }

    @Test func theEntriesCommittedAtTheHostsHeadAreInstalledNotTheLocalOnes() async throws {
        let committed = try String(contentsOf: HostScene.repositoryRoot.appendingPathComponent("crontab.d/weekly-strategy-review.cron"), encoding: .utf8)
        let local = try temporaryDirectory()
        try committed.replacingOccurrences(of: "weekly_strategy_review.sh >>", with: "weekly_strategy_review.sh --local-variant >>")
            .write(to: local.appendingPathComponent("weekly-strategy-review.cron"), atomically: true, encoding: .utf8)
        try await Self.withCrontabDAtHead("weekly-strategy-review.cron", committed) { scene in
            let result = try await scene.botops(["recover", "--yes", "--crontab-dir", local.path])
            #expect(result.termination == .exited(0), "\(result.stdoutText)\n\(result.stderrText)")
            let crontab = try await scene.sh("crontab -l")
            #expect(crontab.contains("weekly_strategy_review.sh >> /opt/bot/logs/weekly_review_cron.log"), "\(crontab)")
            #expect(!crontab.contains("--local-variant"), "the local crontab.d was installed: \(crontab)")
            #expect(result.stderrText.contains("from crontab.d at the host's HEAD ("), "\(result.stderrText)")
        }
    }

    /// An entry at HEAD that does not parse fails the cron step only: the rest of the recovery
    /// (here a stopped service) still happens, and the crontab is left as it was.
    @Test func anEntryAtHeadThatDoesNotParseFailsTheCronStepOnly() async throws {
        try await Self.withCrontabDAtHead("broken.cron", "this is not a schedule\n", also: "docker stop webhook >/dev/null",
                                          cleanup: "docker start webhook >/dev/null") { scene in
            let before = try await scene.sh("crontab -l")
            let plan = try await scene.botops(["recover", "--format", "json"])
            let steps = try #require((try JSONSerialization.jsonObject(with: Data(plan.stdoutText.utf8)) as? [String: Any])?["plan"] as? [String], "\(plan.stdoutText)")
            #expect(!steps.contains { $0.hasPrefix("botops cron install") }, "the plan offers an install it will not do: \(steps)")
            #expect(steps.contains { $0.hasPrefix("no cron change: crontab.d at the host's HEAD cannot be installed") }, "\(steps)")
            let result = try await scene.botops(["recover", "--yes", "--format", "json"])
            #expect(result.termination == .exited(1), "\(result.stdoutText)\n\(result.stderrText)")
            #expect(try await scene.sh("docker inspect -f '{{.State.Status}}' webhook") == "running", "the database step did not run: \(result.stdoutText)\n\(result.stderrText)")
            #expect(try await scene.sh("crontab -l") == before)
            #expect(result.stdoutText.contains("crontab.d at the host's HEAD cannot be installed"), "\(result.stdoutText)")
            #expect(result.stdoutText.contains("broken.cron"), "\(result.stdoutText)")
        }
    }
}
