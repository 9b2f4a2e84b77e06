import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// `botops deploy`, `rollback` and `lock` as a user runs them, against the sandbox host.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct DeployCommandTests {
    func botops(_ arguments: [String]) async throws -> CommandResult {
        try await BuiltBinary.botops.run(arguments)
    }

    @Test func twoServicesFromAFeatureBranchThenRollbackToMainWithDockerComposeV2Spelling() async throws {
        try await DeploySandbox.scenario(restoring: ["sighook", "webhook"]) { sandbox in
            let config = try sandbox.config(compose: "docker compose")
            let before = (sighook: try await sandbox.runningImage("sighook"), webhook: try await sandbox.runningImage("webhook"))
            let branch = "feature/strategy-optimization-test"
            let feature = try await sandbox.commit(on: branch, files: ["VERSION": "3-linkage\n"], message: "sighook, webhook: strategy linkage")

            let deployed = try await botops(["deploy", "--config", config, "--service", "sighook,webhook", "--ref", branch])
            #expect(deployed.termination == .exited(0), "\(deployed.stdoutText)\n\(deployed.stderrText)")
            #expect(deployed.stdoutText.contains("--env-file .env -f docker-compose.aws.yml build --no-cache sighook webhook") == false,
                    "commands are not echoed on a real run, only their output")
            #expect(deployed.stdoutText.contains("deployed sighook, webhook at \(branch) at \(feature.prefix(12))"))
            #expect(try await sandbox.sh("docker exec sighook cat /app/VERSION") == "3-linkage")
            #expect(try await sandbox.sh("docker exec webhook cat /app/VERSION") == "3-linkage")
            #expect(try await sandbox.checkout() == (branch, feature))
            let record = try #require(try await sandbox.audit(last: 1).last)
            #expect(record.branch == branch && record.to == feature && record.services == ["sighook", "webhook"] && record.result == "success")
            #expect(deployed.stdoutText.contains("sighook downtime: ") && deployed.stdoutText.contains("webhook downtime: "))
            #expect(record.downtimeMS?["sighook"] != nil)
            // No secret from the env file reaches the output or the audit. (Its database user and
            // name are botops.yml's `database:` too, which restore's audit lines rightly name.)
            let secrets = try await sandbox.sh("sed -n 's/^[A-Z_]*\\(PASSWORD\\|SECRET\\)[A-Z_]*=//p' \(shellQuote(sandbox.sandbox.app))/.env").split(separator: "\n").map(String.init)
            let audit = try await sandbox.sh("cat ~/.botops/audit.jsonl")
            #expect(secrets.count >= 2)
            for secret in secrets where secret.count >= 8 {
                #expect(!deployed.stdoutText.contains(secret) && !deployed.stderrText.contains(secret) && !audit.contains(secret))
            }

            // Plan A of the deploy guide: back to main, both services, from the kept images.
            let rolledBack = try await botops(["rollback", "--config", config, "--service", "sighook,webhook", "--to", "main"])
            #expect(rolledBack.termination == .exited(0), "\(rolledBack.stdoutText)\n\(rolledBack.stderrText)")
            #expect(try await sandbox.runningImage("sighook") == before.sighook, "\(rolledBack.stdoutText)")
            #expect(try await sandbox.runningImage("webhook") == before.webhook)
            #expect(try await sandbox.checkout() == ("main", sandbox.mainHead))
            #expect(rolledBack.stdoutText.contains("sighook ← bottrader/sighook:botops-\(sandbox.mainHead.prefix(12))"))
            #expect(!rolledBack.stdoutText.contains("rebuilding"))
        }
    }

    @Test func aCheckFailingBeforeTheDeployDoesNotCountButANewFailureRollsBack() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let branch = "test/baseline"
            let good = try await sandbox.commit(on: branch, files: ["VERSION": "4-good\n"], message: "a good release")
            // Already broken before the deploy: the weekly cron entry is gone.
            try await sandbox.sh("crontab -l > ~/.crontab.deploy-test && crontab -l | grep -v weekly_strategy_review | crontab -")
            do {
                let deployed = try await botops(["deploy", "--config", config, "--service", "sighook", "--ref", branch])
                #expect(deployed.termination == .exited(0), "\(deployed.stdoutText)\n\(deployed.stderrText)")
                #expect(deployed.stdoutText.contains("already failing before the deploy: cron-scheduled"))
                #expect(deployed.stdoutText.contains("8 pass; 1 failing as before the deploy"))
                #expect(try await sandbox.checkout() == (branch, good))

                // With --strict the failure from before counts too.
                let strictRelease = try await sandbox.commit(on: branch, from: branch, files: ["VERSION": "4-strict\n"], message: "another good release")
                let strict = try await botops(["deploy", "--config", config, "--service", "sighook", "--ref", branch, "--strict"])
                #expect(strict.termination == .exited(1), "\(strict.stdoutText)\n\(strict.stderrText)")
                #expect(strict.stdoutText.contains("--strict: they will count against the release"))
                #expect(strict.stdoutText.contains("failed at checks: check failed: cron-scheduled"))
                #expect(try await sandbox.checkout() == (branch, good))
                #expect(strictRelease != good)

                // A release that breaks something new: the report script loses its executable bit.
                _ = try await sandbox.commit(on: branch, from: branch, plain: ["weekly_strategy_review.sh"], message: "report script not executable")
                let broken = try await botops(["deploy", "--config", config, "--service", "sighook", "--ref", branch])
                #expect(broken.termination == .exited(1), "\(broken.stdoutText)\n\(broken.stderrText)")
                #expect(broken.stdoutText.contains("script-executable"))
                #expect(broken.stdoutText.contains("Rolled back to \(branch) at \(good.prefix(12))"))
                #expect(try await sandbox.checkout() == (branch, good))
                #expect(try await sandbox.sh("test -x \(shellQuote(sandbox.sandbox.app))/weekly_strategy_review.sh && echo yes") == "yes")
            } catch {
                _ = try? await sandbox.sh("crontab ~/.crontab.deploy-test && rm ~/.crontab.deploy-test")
                throw error
            }
            try await sandbox.sh("crontab ~/.crontab.deploy-test && rm ~/.crontab.deploy-test")
        }
    }

    /// A playbook with a step that harms the host where a rollback cannot reach (the crontab),
    /// then fails: the rollback restores the code, but the checks still fail.
    static func harmfulPlaybooks() throws -> String {
        let directory = try temporaryDirectory().appendingPathComponent("playbooks")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let shipped = DeploySandbox.repositoryRoot.appendingPathComponent("playbooks")
        let deploy = try String(contentsOf: shipped.appendingPathComponent("deploy.yml"), encoding: .utf8).replacing("""
              - name: build
            """, with: """
              - name: damage
                run: "crontab -l | grep -v weekly_strategy_review | crontab -"
                changes: removes the weekly cron entry
              - name: fail
                run: "false"
              - name: build
            """)
        try deploy.write(to: directory.appendingPathComponent("deploy.yml"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(at: shipped.appendingPathComponent("rollback.yml"), to: directory.appendingPathComponent("rollback.yml"))
        return directory.path
    }

    @Test func aRollbackThatCannotRepairTheHostExitsFiveAndNoRollbackLeavesTheHostAsItWas() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(playbooks: try Self.harmfulPlaybooks())
            let branch = "test/harmful"
            let target = try await sandbox.commit(on: branch, files: ["VERSION": "8-harmful\n"], message: "a release whose deploy harms the host")
            try await sandbox.sh("crontab -l > ~/.crontab.deploy-test")
            defer { Task { [host = sandbox.host] in _ = try? await host.run("crontab ~/.crontab.deploy-test && rm ~/.crontab.deploy-test") } }

            let failed = try await botops(["deploy", "--config", config, "--service", "sighook", "--ref", branch])
            #expect(failed.termination == .exited(5), "\(failed.stdoutText)\n\(failed.stderrText)")
            #expect(failed.stdoutText.contains("deploy of sighook failed at fail"))
            #expect(failed.stdoutText.contains("The rollback to main at \(sandbox.mainHead.prefix(12)) failed too: checks: check failed: cron-scheduled"))
            #expect(failed.stdoutText.contains("The host needs a human. Look at:"))
            #expect(try await sandbox.checkout() == ("main", sandbox.mainHead))
            let record = try #require(try await sandbox.audit(last: 1).last)
            #expect(record.result == "rollback-failed" && record.rollback?.result == "failed")

            try await sandbox.sh("crontab ~/.crontab.deploy-test")
            let kept = try await botops(["deploy", "--config", config, "--service", "sighook", "--ref", branch, "--no-rollback"])
            // Failed with the host left changed: exit 5, saying what changed; main did not move,
            // so it still names what ran before.
            #expect(kept.termination == .exited(5), "\(kept.stdoutText)\n\(kept.stderrText)")
            #expect(kept.stdoutText.contains("The host is left changed, as the failed step left it (--no-rollback): the checkout moved from \(sandbox.mainHead.prefix(12)) to \(branch) at \(target.prefix(12))"), "\(kept.stdoutText)")
            #expect(kept.stdoutText.contains("To go back: botops rollback --service sighook --to main"))
            #expect(try await sandbox.checkout() == (branch, target))
            #expect(try await sandbox.audit(last: 1).last?.result == "failed")

            // What CI does: deploy main itself. The deploy moved main, so the way back names the
            // revision that ran before (`--to main` would run the new one again).
            try await sandbox.sh("crontab ~/.crontab.deploy-test && cd \(shellQuote(sandbox.sandbox.app)) && git checkout -q main")
            let onMain = try await sandbox.commit(on: "main", files: ["VERSION": "8-harmful-main\n"], message: "the same release on main")
            let movedMain = try await botops(["deploy", "--config", config, "--service", "sighook", "--no-rollback"])
            #expect(movedMain.termination == .exited(5), "\(movedMain.stdoutText)\n\(movedMain.stderrText)")
            #expect(movedMain.stdoutText.contains("To go back: botops rollback --service sighook --to \(sandbox.mainHead.prefix(12))"), "\(movedMain.stdoutText)")
            #expect(try await sandbox.checkout() == ("main", onMain))
            #expect(try await sandbox.audit(last: 1).last?.result == "failed")
            try await sandbox.sh("crontab ~/.crontab.deploy-test")
        }
    }

    @Test func refusalsChangeNothing() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config()
            let app = shellQuote(sandbox.sandbox.app)
            let image = try await sandbox.runningImage("sighook")

            try await sandbox.sh("touch \(app)/stray-file.txt")
            let dirty = try await botops(["deploy", "--config", config, "--service", "sighook"])
            try await sandbox.sh("rm \(app)/stray-file.txt")
            #expect(dirty.termination == .exited(4))
            #expect(dirty.stderrText.contains("uncommitted changes") && dirty.stderrText.contains("?? stray-file.txt"), "\(dirty.stderrText)")

            let unknown = try await botops(["deploy", "--config", config, "--service", "sighook,leaderboard-job"])
            #expect(unknown.termination == .exited(2))
            #expect(unknown.stderrText.contains("unknown service leaderboard-job; the compose file declares: db, report-job, sighook, webhook"), "\(unknown.stderrText)")

            // A commit made on the host that the origin does not have: main cannot fast-forward.
            try await sandbox.sh("cd \(app) && git -c user.name=t -c user.email=t@t commit -q --allow-empty -m 'made on the host'")
            let diverged = try await botops(["deploy", "--config", config, "--service", "sighook"])
            let local = try await sandbox.checkout()
            try await sandbox.sh("cd \(app) && git reset -q --hard \(shellQuote(sandbox.mainHead))")
            #expect(diverged.termination == .exited(4))
            #expect(diverged.stderrText.contains("has commits that origin/main") && diverged.stderrText.contains("made on the host"), "\(diverged.stderrText)")
            #expect(!diverged.stderrText.contains("rewritten"))

            try await sandbox.sh("cd \(app) && git checkout -q --detach HEAD")
            let detached = try await botops(["deploy", "--config", config, "--service", "sighook"])
            try await sandbox.sh("cd \(app) && git checkout -q main")
            #expect(detached.termination == .exited(4))
            #expect(detached.stderrText.contains("at a detached revision \(sandbox.mainHead.prefix(12)), not on main. Deploy that revision explicitly with --ref \(sandbox.mainHead.prefix(12))"), "\(detached.stderrText)")
            #expect(local.revision != sandbox.mainHead)

            try await sandbox.sh("cd \(app) && git checkout -q -b test/elsewhere")
            let elsewhere = try await botops(["deploy", "--config", config, "--service", "sighook"])
            try await sandbox.sh("cd \(app) && git checkout -q main && git branch -q -D test/elsewhere")
            #expect(elsewhere.termination == .exited(4))
            #expect(elsewhere.stderrText.contains("is on test/elsewhere, not main"), "\(elsewhere.stderrText)")

            #expect(try await sandbox.runningImage("sighook") == image)
            #expect(try await sandbox.checkout() == ("main", sandbox.mainHead))
            let records = try await sandbox.audit(last: 3)
            #expect(records.allSatisfy { $0.result == "refused" })
        }
    }

    @Test func malformedPlaybookIsAConfigErrorNamingFileLineAndKey() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let playbooks = directory.appendingPathComponent("playbooks")
        try FileManager.default.createDirectory(at: playbooks, withIntermediateDirectories: true)
        try "steps:\n  - {name: lock, builtin: lock}\n  - name: build\n    run: \"{compose} build {servce}\"\n"
            .write(to: playbooks.appendingPathComponent("deploy.yml"), atomically: true, encoding: .utf8)
        try "host: nowhere.invalid\n".write(to: directory.appendingPathComponent("botops.yml"), atomically: true, encoding: .utf8)
        let result = try await botops(["deploy", "--config", directory.appendingPathComponent("botops.yml").path, "--service", "sighook"])
        #expect(result.termination == .exited(2))
        #expect(result.stderrText.contains("deploy.yml:4: key 'steps[2].run': unknown variable {servce}"), "\(result.stderrText)")
    }

    @Test func dryRunPrintsEveryCommandAndChangesNothing() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let branch = "test/dry-run"
            let target = try await sandbox.commit(on: branch, files: ["VERSION": "5-dry\n"], message: "not deployed")
            let snapshot = """
                cd \(shellQuote(sandbox.sandbox.app)); git rev-parse HEAD; git symbolic-ref HEAD; git for-each-ref
                docker images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}' | sort
                docker ps -a --no-trunc --format '{{.ID}} {{.Image}} {{.State}}' | sort
                crontab -l; ls -la ~/.botops 2>&1 | grep -v '^total'
                """
            let before = try await sandbox.sh(snapshot)
            let result = try await botops(["deploy", "--config", config, "--service", "sighook", "--ref", branch, "--dry-run"])
            #expect(result.termination == .exited(0), "\(result.stdoutText)\n\(result.stderrText)")
            #expect(try await sandbox.sh(snapshot) == before)
            let output = result.stdoutText
            // Compose runs as the running stack's project, whatever the checkout's directory is called.
            #expect(output.contains("$ cd /opt/bot && docker-compose -p \(try await sandbox.runningProject()) --env-file .env -f docker-compose.aws.yml build --no-cache sighook"))
            #expect(output.contains("$ cd /opt/bot && git checkout -q -B \(branch) \(target)"))
            #expect(output.contains("$ docker tag sha256:"))
            #expect(output.contains("$ docker stop -t 10 "))
            #expect(output.contains("stops sighook (SIGTERM, SIGKILL after 10 s; botops waits up to 120 s)"), "the stop step's timeout is shown")
            #expect(output.contains("changes: builds new images for sighook"))
            #expect(output.contains("read-only"))
            #expect(output.contains("nothing was changed"))
            #expect(!output.contains("fake-secret"), "compose config's output (with .env values) is never shown")
        }
    }

    /// After `deploy --host-files` the checkout is ahead of the release the containers run: a
    /// failed deploy rolls back to that release, and the dry run shows that target, as keep-image
    /// reads it, not the checkout's HEAD.
    @Test func dryRunShowsTheRollbackToTheReleaseTheContainersRun() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            // The running image becomes a recorded release of main's head.
            let recorded = try await botops(["deploy", "--config", config, "--service", "sighook"])
            #expect(recorded.termination == .exited(0), "\(recorded.stdoutText)\n\(recorded.stderrText)")
            let running = try await sandbox.checkout().revision
            let query = try String(contentsOf: DeploySandbox.repositoryRoot.appendingPathComponent("scripts/sandbox-app/queries/weekly_signal_quality.sql"), encoding: .utf8)
            let ahead = try await sandbox.commit(on: "main", files: ["queries/weekly_signal_quality.sql": query + "-- reviewed\n"], message: "query: reviewed")
            let hostFiles = try await botops(["deploy", "--host-files", "--config", config])
            #expect(hostFiles.termination == .exited(0), "\(hostFiles.stdoutText)\n\(hostFiles.stderrText)")
            #expect(try await sandbox.checkout() == ("main", ahead))

            let result = try await botops(["deploy", "--config", config, "--service", "sighook", "--dry-run"])
            #expect(result.termination == .exited(0), "\(result.stdoutText)\n\(result.stderrText)")
            let output = result.stdoutText
            #expect(output.contains("rollback.yml runs back to main at \(running.prefix(12))"), "\(output)")
            #expect(output.contains("$ cd /opt/bot && git checkout -q -B main \(running)"), "\(output)")
            #expect(output.contains("rollback.yml would restore main at \(running.prefix(12))"), "\(output)")
        }
    }

    @Test func hostFilesDeployPullsScriptsAndQueriesWithoutTouchingContainers() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config()
            let app = shellQuote(sandbox.sandbox.app)
            let branch = "test/host-files"
            let containers = try await sandbox.sh("docker ps --no-trunc --format '{{.ID}} {{.Image}}' | sort")
            let query = try String(contentsOf: DeploySandbox.repositoryRoot.appendingPathComponent("scripts/sandbox-app/queries/weekly_signal_quality.sql"), encoding: .utf8)
            let updated = try await sandbox.commit(on: branch, files: ["queries/weekly_signal_quality.sql": query + "-- reviewed\n"], message: "query: reviewed")
            // A host whose checkout lost the script's executable bit (git records 755).
            try await sandbox.sh("cd \(app) && git config core.fileMode false && chmod -x weekly_strategy_review.sh")
            let deployed = try await botops(["deploy", "--host-files", "--config", config, "--ref", branch])
            try await sandbox.sh("cd \(app) && git config --unset core.fileMode")
            #expect(deployed.termination == .exited(0), "\(deployed.stdoutText)\n\(deployed.stderrText)")
            #expect(deployed.stdoutText.contains("chmod +x weekly_strategy_review.sh"))
            #expect(deployed.stdoutText.contains("no image was built and no container touched"))
            #expect(try await sandbox.sh("tail -n 1 \(app)/queries/weekly_signal_quality.sql") == "-- reviewed")
            #expect(try await sandbox.checkout() == (branch, updated))
            #expect(try await sandbox.sh("docker ps --no-trunc --format '{{.ID}} {{.Image}}' | sort") == containers)

            // Anything an image is built from needs a real deploy.
            _ = try await sandbox.commit(on: branch, from: branch, files: ["service.sh": "#!/bin/bash\nexit 0\n"], executable: ["service.sh"], message: "service change")
            let refused = try await botops(["deploy", "--host-files", "--config", config, "--ref", branch])
            #expect(refused.termination == .exited(4))
            #expect(refused.stderrText.contains("service.sh"), "\(refused.stderrText)")
            #expect(try await sandbox.checkout() == (branch, updated))
        }
    }
}

/// Deploys that meet each other, and deploys that die: the lock must name who holds it, let a
/// waiting deploy through, and never block the host after its holder is gone.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct DeployLockingTests {
    /// A botops run in the background: its pid, and files with its output and status.
    struct Background {
        let directory: URL
        let pid: Int32

        static func start(_ arguments: [String]) async throws -> Background {
            let directory = try temporaryDirectory()
            let dir = shellQuote(directory.path)
            let command = shellCommand([BuiltBinary.botops.path] + arguments)
            _ = try await LocalHost().run("(\(command) > \(dir)/out 2> \(dir)/err & echo $! > \(dir)/pid; wait $!; echo $? > \(dir)/rc) > /dev/null 2>&1 < /dev/null &")
            for _ in 0..<100 {
                if let text = try? String(contentsOfFile: directory.appendingPathComponent("pid").path, encoding: .utf8),
                   let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                    return Background(directory: directory, pid: pid)
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw TestFailure("botops did not start in the background")
        }

        func file(_ name: String) -> String {
            (try? String(contentsOfFile: directory.appendingPathComponent(name).path, encoding: .utf8)) ?? ""
        }

        /// The exit status, once it has ended.
        func status(within limit: Duration = .seconds(180)) async throws -> Int32 {
            let clock = ContinuousClock()
            let deadline = clock.now + limit
            while clock.now < deadline {
                if let status = Int32(file("rc").trimmingCharacters(in: .whitespacesAndNewlines)) { return status }
                try await Task.sleep(for: .milliseconds(200))
            }
            throw TestFailure("botops still running after \(limit): \(file("out"))")
        }

        func signal(_ name: String) async throws {
            _ = try await LocalHost().run("kill -\(name) \(pid)")
        }
    }

    func botops(_ arguments: [String]) async throws -> CommandResult {
        try await BuiltBinary.botops.run(arguments)
    }

    /// Polls `lock status` until the lock is held, by a holder at `step` if one is named.
    func waitForHolder(atStep step: String? = nil, config: String) async throws -> String {
        for _ in 0..<300 {
            let status = try await botops(["lock", "status", "--config", config])
            if status.termination == .exited(4), step.map({ status.stdoutText.contains("step \($0)") }) ?? true { return status.stdoutText }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("the deploy never reached step \(step ?? "lock")")
    }

    @Test func aSecondDeployIsRefusedNamingTheHolderAndWithLockWaitItFollows() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let branch = "test/concurrent"
            _ = try await sandbox.commit(on: branch, files: ["VERSION": "6-first\n"], message: "first")

            let first = try await Background.start(["deploy", "--config", config, "--service", "sighook", "--ref", branch])
            _ = try await waitForHolder(config: config)
            let refused = try await botops(["deploy", "--config", config, "--service", "sighook", "--ref", branch])
            #expect(refused.termination == .exited(4))
            #expect(refused.stderrText.contains("deploy lock held: "), "\(refused.stderrText)")
            #expect(refused.stderrText.contains("(pid \(first.pid)): botops deploy --config \(config) --service sighook --ref \(branch)"), "\(refused.stderrText)")
            #expect(refused.stderrText.contains("--lock-wait"))

            let waiting = try await botops(["deploy", "--config", config, "--service", "sighook", "--ref", branch, "--lock-wait", "3m", "--format", "json"])
            #expect(try await first.status() == 0, "\(first.file("out"))\(first.file("err"))")
            #expect(waiting.termination == .exited(0), "\(waiting.stdoutText)\n\(waiting.stderrText)")
            // --format json: one event object per line, for CI.
            let events = try waiting.stdoutText.split(separator: "\n").map { line in
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
            }
            #expect(events.contains { $0["event"] as? String == "notice" && ($0["message"] as? String)?.contains("waiting for the deploy lock, held by root@") == true })
            #expect(events.filter { $0["event"] as? String == "step_finished" }.compactMap { $0["step"] as? String }.contains("wait-healthy"))
            #expect(events.last?["event"] as? String == "finished")
            #expect(events.last?["exit_code"] as? Int == 0)
        }
    }

    @Test func killedMidBuildIsNamedNextAndCtrlCReleasesTheLockSayingWhereItStopped() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let slow = "test/slow-build"
            let dockerfile = try String(contentsOf: DeploySandbox.repositoryRoot.appendingPathComponent("scripts/sandbox-app/Dockerfile.bot"), encoding: .utf8)
            _ = try await sandbox.commit(on: slow, files: ["Dockerfile.bot": dockerfile + "RUN sleep 20\n"], message: "a slow build")
            let image = try await sandbox.runningImage("sighook")

            // SIGKILL during the build: nothing can run on its way out.
            let killed = try await Background.start(["deploy", "--config", config, "--service", "sighook", "--ref", slow])
            _ = try await waitForHolder(atStep: "build", config: config)
            try await killed.signal("KILL")
            _ = try await killed.status()
            var status = try await botops(["lock", "status", "--config", config])
            for _ in 0..<50 where status.termination != .exited(0) {
                try await Task.sleep(for: .milliseconds(100))
                status = try await botops(["lock", "status", "--config", config])
            }
            #expect(status.termination == .exited(0), "the kernel frees the lock once the session is gone: \(status.stdoutText)")
            #expect(status.stdoutText.contains("interrupted"))
            #expect(status.stdoutText.contains("(pid \(killed.pid)): botops deploy --config \(config) --service sighook --ref \(slow), step build"), "\(status.stdoutText)")

            // The next deploy names it, then gets Ctrl-C during its own build.
            let interrupted = try await Background.start(["deploy", "--config", config, "--service", "sighook", "--ref", slow])
            _ = try await waitForHolder(atStep: "build", config: config)
            try await interrupted.signal("INT")
            #expect(try await interrupted.status() == 130)
            #expect(interrupted.file("out").contains("the previous deploy was interrupted without releasing the lock: root@"), "\(interrupted.file("out"))")
            #expect(interrupted.file("out").contains("(pid \(killed.pid))"))
            // The build is stopped on the host; the report (stdout) names the step it stopped in.
            #expect(interrupted.file("out").contains("deploy interrupted by SIGINT during step build"), "\(interrupted.file("out"))")
            let after = try await botops(["lock", "status", "--config", config])
            #expect(after.termination == .exited(0))
            #expect(after.stdoutText == "free\n", "Ctrl-C released the lock and its record: \(after.stdoutText)")
            let records = try await sandbox.audit(last: 2)
            #expect(records.map(\.result) == ["interrupted", "interrupted"])
            #expect(records.first?.failure?.contains("step build") == true)

            // Nothing had touched the containers; the next deploy works.
            #expect(try await sandbox.runningImage("sighook") == image)
            let fast = "test/after-interrupt"
            _ = try await sandbox.commit(on: fast, files: ["VERSION": "7-after\n"], message: "after the interruptions")
            let next = try await botops(["deploy", "--config", config, "--service", "sighook", "--ref", fast])
            #expect(next.termination == .exited(0), "\(next.stdoutText)\n\(next.stderrText)")
        }
    }

    @Test func forcedReleaseOfALiveHolderGoesIntoTheAudit() async throws {
        try await DeploySandbox.withLock {
            let sandbox = try await DeploySandbox.connect()
            try await sandbox.host.closing {
                let config = try sandbox.config()
                let lock = DeployLock(state: StateDirectory(path: "~/.botops"), staleAfter: .seconds(3600), runner: sandbox.host)
                let held = try await lock.acquire(as: .current(command: "a stuck deploy"), wait: nil)
                let refused = try await botops(["lock", "release", "--config", config])
                #expect(refused.termination == .exited(4))
                #expect(refused.stdoutText.contains("a stuck deploy"))
                let noReason = try await botops(["lock", "release", "--force", "--config", config])
                #expect(noReason.termination == .exited(2))
                let forced = try await botops(["lock", "release", "--force", "--reason", "stuck since the outage", "--config", config])
                #expect(forced.termination == .exited(0), "\(forced.stderrText)")
                #expect(forced.stdoutText.contains("it was held by") && forced.stdoutText.contains("a stuck deploy"))
                let record = try #require(try await sandbox.audit(last: 1).last)
                #expect(record.action == "lock-release" && record.reason == "stuck since the outage")
                #expect(record.failure?.contains("a stuck deploy") == true)
                #expect(try await botops(["lock", "status", "--config", config]).stdoutText == "free\n")
                await held.release()
            }
        }
    }
}
