import BotOps
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
            let database = try await sandbox.databaseFingerprint()
            let config = try sandbox.config(compose: "docker compose")
            let before = (sighook: try await sandbox.runningImage("sighook"), webhook: try await sandbox.runningImage("webhook"))
            let branch = "feature/strategy-optimization-test"
            defer { Task { try? await sandbox.deleteBranch(branch) } }
            let feature = try await sandbox.commit(on: branch, files: ["VERSION": "3-linkage\n"], message: "sighook, webhook: strategy linkage")

            let deployed = try await botops(["deploy", "--config", config, "--service", "sighook,webhook", "--ref", branch])
            #expect(deployed.termination == .exited(0), "\(deployed.stdoutText)\n\(deployed.stderrText)")
            #expect(deployed.stdoutText.contains("docker compose --env-file .env -f docker-compose.aws.yml build --no-cache sighook webhook") == false,
                    "commands are not echoed on a real run, only their output")
            #expect(deployed.stdoutText.contains("deployed sighook, webhook at \(branch) at \(feature.prefix(12))"))
            #expect(try await sandbox.sh("docker exec sighook cat /app/VERSION") == "3-linkage")
            #expect(try await sandbox.sh("docker exec webhook cat /app/VERSION") == "3-linkage")
            #expect(try await sandbox.checkout() == (branch, feature))
            let record = try #require(try await sandbox.audit(last: 1).last)
            #expect(record.branch == branch && record.to == feature && record.services == ["sighook", "webhook"] && record.result == "success")

            // Plan A of the deploy guide: back to main, both services, from the kept images.
            let rolledBack = try await botops(["rollback", "--config", config, "--service", "sighook,webhook", "--to", "main"])
            #expect(rolledBack.termination == .exited(0), "\(rolledBack.stdoutText)\n\(rolledBack.stderrText)")
            #expect(try await sandbox.runningImage("sighook") == before.sighook, "\(rolledBack.stdoutText)")
            #expect(try await sandbox.runningImage("webhook") == before.webhook)
            #expect(try await sandbox.checkout() == ("main", sandbox.mainHead))
            #expect(rolledBack.stdoutText.contains("sighook ← bottrader/sighook:botops-\(sandbox.mainHead.prefix(12))"))
            #expect(!rolledBack.stdoutText.contains("rebuilding"))
            #expect(try await sandbox.databaseFingerprint() == database)
        }
    }

    @Test func aCheckFailingBeforeTheDeployDoesNotCountButANewFailureRollsBack() async throws {
        try await DeploySandbox.scenario { sandbox in
            let database = try await sandbox.databaseFingerprint()
            let config = try sandbox.config(compose: "docker-compose")
            let branch = "test/baseline"
            defer { Task { try? await sandbox.deleteBranch(branch) } }
            let good = try await sandbox.commit(on: branch, files: ["VERSION": "4-good\n"], message: "a good release")
            // Already broken before the deploy: the weekly cron entry is gone.
            try await sandbox.sh("crontab -l > ~/.crontab.deploy-test && crontab -l | grep -v weekly_strategy_review | crontab -")
            do {
                let deployed = try await botops(["deploy", "--config", config, "--service", "sighook", "--ref", branch])
                #expect(deployed.termination == .exited(0), "\(deployed.stdoutText)\n\(deployed.stderrText)")
                #expect(deployed.stdoutText.contains("already failing before the deploy: cron-scheduled"))
                #expect(deployed.stdoutText.contains("8 pass; 1 failing as before the deploy"))
                #expect(try await sandbox.checkout() == (branch, good))

                // A release that breaks something new: the report script loses its executable bit.
                _ = try await sandbox.commit(on: branch, from: branch, plain: ["weekly_strategy_review.sh"], message: "report script not executable")
                let broken = try await botops(["deploy", "--config", config, "--service", "sighook", "--ref", branch])
                #expect(broken.termination == .exited(1), "\(broken.stdoutText)\n\(broken.stderrText)")
                #expect(broken.stdoutText.contains("script-executable"))
                #expect(broken.stdoutText.contains("Rolled back to \(branch) at \(good.prefix(12))"))
                #expect(try await sandbox.checkout() == (branch, good))
                #expect(try await sandbox.sh("test -x \(shellQuote(sandbox.sandbox.app))/weekly_strategy_review.sh && echo yes") == "yes")
            } catch {
                try? await sandbox.sh("crontab ~/.crontab.deploy-test && rm ~/.crontab.deploy-test")
                throw error
            }
            try await sandbox.sh("crontab ~/.crontab.deploy-test && rm ~/.crontab.deploy-test")
            #expect(try await sandbox.databaseFingerprint() == database)
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
            #expect(diverged.stderrText.contains("history was rewritten"), "\(diverged.stderrText)")
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
            defer { Task { try? await sandbox.deleteBranch(branch) } }
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
            #expect(output.contains("$ cd /opt/bot && docker-compose --env-file .env -f docker-compose.aws.yml build --no-cache sighook"))
            #expect(output.contains("$ cd /opt/bot && git checkout -q -B \(branch) \(target)"))
            #expect(output.contains("$ docker tag sha256:"))
            #expect(output.contains("$ docker stop -t 10 "))
            #expect(output.contains("changes: builds new images for sighook"))
            #expect(output.contains("read-only"))
            #expect(output.contains("nothing was changed"))
            #expect(!output.contains("fake-secret"), "compose config's output (with .env values) is never shown")
        }
    }
}
