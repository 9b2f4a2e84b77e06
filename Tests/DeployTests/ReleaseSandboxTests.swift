import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// Releases botops can trust, on the sandbox host: kept tags that keep naming their image,
/// `rollback --to previous` judged from what runs, a record that fails on a live release, an
/// unreadable releases.json, a database down before the deploy.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct ReleaseSandboxTests {
    static let all = ["sighook", "webhook", "report-job"]

    func botops(_ arguments: [String]) async throws -> CommandResult {
        try await BuiltBinary.botops.run(arguments)
    }

    func imageID(_ sandbox: DeploySandbox, _ tag: String) async throws -> String {
        try await sandbox.sh("docker image inspect -f '{{.Id}}' \(shellQuote(tag))")
    }

    /// The deploy guide's mixed state: all services at R2, then sighook alone rolled back to R1;
    /// the next deploy of both must not move webhook's R1 tag onto R2's image, and `--to previous`
    /// judges each service by the image it runs.
    @Test func deployAllThenAServiceRolledBackAloneKeepsEveryTagOnItsImage() async throws {
        try await DeploySandbox.scenario(restoring: Self.all) { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let r1 = try await sandbox.commit(on: "main", files: ["VERSION": "r1\n"], message: "r1")
            let all = try await botops(["deploy", "--config", config, "--all"])
            #expect(all.termination == .exited(0), "\(all.stdoutText)\n\(all.stderrText)")
            for service in Self.all {
                #expect(try await sandbox.sh("docker exec \(service) cat /app/VERSION") == "r1", "deploy --all reaches \(service)")
            }
            let webhookR1 = try await sandbox.runningImage("webhook")

            let r2 = try await sandbox.commit(on: "main", files: ["VERSION": "r2\n"], message: "r2")
            let second = try await botops(["deploy", "--config", config, "--service", "sighook,webhook"])
            #expect(second.termination == .exited(0), "\(second.stdoutText)\n\(second.stderrText)")
            let webhookR2 = try await sandbox.runningImage("webhook")
            #expect(webhookR2 != webhookR1)

            let alone = try await botops(["rollback", "--config", config, "--service", "sighook", "--to", String(r1.prefix(12))])
            #expect(alone.termination == .exited(0), "\(alone.stdoutText)\n\(alone.stderrText)")

            _ = try await sandbox.commit(on: "main", files: ["VERSION": "r3\n"], message: "r3")
            let third = try await botops(["deploy", "--config", config, "--service", "sighook,webhook"])
            #expect(third.termination == .exited(0), "\(third.stdoutText)\n\(third.stderrText)")
            // webhook ran R2 while the checkout said R1: its R1 tag still names R1's image.
            #expect(try await imageID(sandbox, "bottrader/webhook:botops-\(r1.prefix(12))") == webhookR1)
            #expect(try await imageID(sandbox, "bottrader/webhook:botops-\(r2.prefix(12))") == webhookR2)
            let releases = try await sandbox.sh("cat ~/.botops/releases.json")
            #expect(releases.contains("\"image_id\":\"\(webhookR2)\""))

            // Before R3, sighook ran R1 and webhook R2: one checkout cannot go back to both.
            let both = try await botops(["rollback", "--config", config, "--service", "sighook,webhook", "--to", "previous"])
            #expect(both.termination == .exited(4), "\(both.stdoutText)\n\(both.stderrText)")
            #expect(both.stderrText.contains("sighook: \(r1.prefix(12))") && both.stderrText.contains("webhook: \(r2.prefix(12))"), "\(both.stderrText)")

            let webhook = try await botops(["rollback", "--config", config, "--service", "webhook", "--to", "previous"])
            #expect(webhook.termination == .exited(0), "\(webhook.stdoutText)\n\(webhook.stderrText)")
            #expect(try await sandbox.runningImage("webhook") == webhookR2, "the kept image of R2, not a rebuild")
            #expect(try await sandbox.checkout().revision == r2)
        }
    }

    /// A full state directory, say: the release is live, so the deploy exits 0 with a warning,
    /// and the audit line is written on its own.
    @Test func aHealthyDeployWhoseRecordFailsExitsZeroWithAWarningAndItsAuditLine() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let release = try await sandbox.commit(on: "main", files: ["VERSION": "record-fails\n"], message: "a release whose record cannot be written")
            let before = try await sandbox.sh("mkdir -p ~/.botops && cat ~/.botops/releases.json 2>/dev/null || true")
            // The record's write lands on a directory: it fails as a full disk would.
            try await sandbox.sh("mkdir ~/.botops/releases.json.new")
            let deployed: CommandResult
            do {
                deployed = try await botops(["deploy", "--config", config, "--service", "sighook", "--format", "json"])
            } catch {
                try? await sandbox.sh("rmdir ~/.botops/releases.json.new")
                throw error
            }
            try await sandbox.sh("rmdir ~/.botops/releases.json.new")
            #expect(deployed.termination == .exited(0), "\(deployed.stdoutText)\n\(deployed.stderrText)")
            let events = deployed.stdoutText.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            let warning = try #require(events.first { $0["event"] as? String == "warning" }, "\(deployed.stdoutText)")
            #expect((warning["message"] as? String)?.contains("releases.json failed") == true)
            let finished = try #require(events.last)
            #expect(finished["event"] as? String == "finished" && finished["exit_code"] as? Int == 0)
            #expect(!deployed.stderrText.contains("StepFailure"), "no struct dump: \(deployed.stderrText)")
            let record = try #require(try await sandbox.audit(last: 1).last)
            #expect(record.result == "success" && record.recordFailed == true && record.to == release)
            #expect(try await sandbox.sh("cat ~/.botops/releases.json 2>/dev/null || true") == before)
            #expect(try await sandbox.sh("docker exec sighook cat /app/VERSION") == "record-fails")
        }
    }

    /// An unreadable releases.json is refused with the file named, and stays as it was; JSON mode
    /// ends with a `finished` event on a refusal too.
    @Test func anUnreadableReleasesFileIsRefusedAndKept() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config()
            try await sandbox.sh("mkdir -p ~/.botops && { [ ! -e ~/.botops/releases.json ] || mv ~/.botops/releases.json ~/.botops/releases.json.test-backup; }")
            let damaged = "{\"services\": {\"sighook\": [{\"revis"
            try await sandbox.sh("printf '%s' \(shellQuote(damaged)) > ~/.botops/releases.json")
            let refused = try await botops(["deploy", "--config", config, "--service", "sighook", "--format", "json"])
            let kept = try await sandbox.sh("cat ~/.botops/releases.json")
            try await sandbox.sh("rm ~/.botops/releases.json && { [ ! -e ~/.botops/releases.json.test-backup ] || mv ~/.botops/releases.json.test-backup ~/.botops/releases.json; }")
            #expect(refused.termination == .exited(4), "\(refused.stdoutText)\n\(refused.stderrText)")
            #expect(refused.stderrText.contains("cannot read ~/.botops/releases.json") && refused.stderrText.contains("will not replace it"), "\(refused.stderrText)")
            #expect(kept == damaged)
            let last = try #require(refused.stdoutText.split(separator: "\n").last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
            #expect(last["event"] as? String == "finished" && last["exit_code"] as? Int == 4 && last["result"] as? String == "refused", "\(refused.stdoutText)")
        }
    }

    /// Playbooks whose `up` (in `playbook`: deploy.yml or rollback.yml) starts the old container
    /// again instead of creating one from the new image.
    static func restartingPlaybooks(_ playbook: String = "deploy.yml") throws -> String {
        let directory = try temporaryDirectory().appendingPathComponent("playbooks")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let shipped = DeploySandbox.repositoryRoot.appendingPathComponent("playbooks")
        for name in ["deploy.yml", "rollback.yml"] {
            var text = try String(contentsOf: shipped.appendingPathComponent(name), encoding: .utf8)
            if name == playbook {
                text = text.replacing(#"run: "{compose} up -d --no-deps {services}""#, with: #"run: "docker start {services}""#)
            }
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return directory.path
    }

    @Test func anOldContainerStartedAgainAfterTheBuildIsNotTheRelease() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose", playbooks: try Self.restartingPlaybooks())
            let before = try await sandbox.runningImage("sighook")
            _ = try await sandbox.commit(on: "main", files: ["VERSION": "never-started\n"], message: "a release whose container is never created")
            let deployed = try await botops(["deploy", "--config", config, "--service", "sighook"])
            #expect(deployed.termination == .exited(1), "\(deployed.stdoutText)\n\(deployed.stderrText)")
            #expect(deployed.stdoutText.contains("an old container was started again"), "\(deployed.stdoutText)")
            #expect(deployed.stdoutText.contains("Rolled back to main at \(sandbox.mainHead.prefix(12))"))
            #expect(try await sandbox.runningImage("sighook") == before)
        }
    }

    /// A rollback whose `up` starts the failed release's container again is not a rollback: it
    /// must not say "rolled back" (and exit 0) while the old revision's image is not running.
    @Test func aRollbackThatStartsTheReplacedContainerAgainIsNotRolledBack() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            _ = try await sandbox.commit(on: "main", files: ["VERSION": "rollback-restarts\n"], message: "a release the rollback fails to replace")
            let deployed = try await botops(["deploy", "--config", config, "--service", "sighook"])
            #expect(deployed.termination == .exited(0), "\(deployed.stdoutText)\n\(deployed.stderrText)")
            let released = try await sandbox.runningImage("sighook")
            let restarting = try sandbox.config(compose: "docker-compose", playbooks: try Self.restartingPlaybooks("rollback.yml"))
            let rollback = try await botops(["rollback", "--config", restarting, "--service", "sighook", "--to", String(sandbox.mainHead.prefix(12))])
            #expect(try await sandbox.runningImage("sighook") == released, "the scenario: the new release's container still runs")
            #expect(rollback.termination == .exited(5), "\(rollback.stdoutText)\n\(rollback.stderrText)")
            #expect(rollback.stdoutText.contains("as restored for this revision") && rollback.stdoutText.contains("an old container was started again"), "\(rollback.stdoutText)")
            #expect(!rollback.stdoutText.contains("rolled back sighook to"), "\(rollback.stdoutText)")
        }
    }

    /// Something else on the host moves the image name after `up` (the operator's own
    /// `compose build`, another checkout's stack): the container still runs what `up` was given,
    /// which is not "an old container started again".
    @Test func anImageNameMovedAfterUpDoesNotFailTheRelease() async throws {
        try await DeploySandbox.scenario { sandbox in
            let directory = try temporaryDirectory().appendingPathComponent("playbooks")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let shipped = DeploySandbox.repositoryRoot.appendingPathComponent("playbooks")
            let deploy = try String(contentsOf: shipped.appendingPathComponent("deploy.yml"), encoding: .utf8)
                .replacing("  - name: checks\n", with: "  - name: another-build\n    run: \"docker tag botops-base:bookworm {image}\"\n    timeout: 30s\n  - name: checks\n")
            try deploy.write(to: directory.appendingPathComponent("deploy.yml"), atomically: true, encoding: .utf8)
            try FileManager.default.copyItem(at: shipped.appendingPathComponent("rollback.yml"), to: directory.appendingPathComponent("rollback.yml"))
            let config = try sandbox.config(compose: "docker-compose", playbooks: directory.path)
            _ = try await sandbox.commit(on: "main", files: ["VERSION": "name-moved\n"], message: "a release whose image name is moved after up")
            let deployed = try await botops(["deploy", "--config", config, "--service", "sighook"])
            #expect(deployed.stdoutText.contains("another-build"), "the scenario: the name was moved after up")
            #expect(deployed.termination == .exited(0), "\(deployed.stdoutText)\n\(deployed.stderrText)")
            #expect(!deployed.stdoutText.contains("an old container was started again"), "\(deployed.stdoutText)")
            #expect(try await sandbox.sh("docker exec sighook cat /app/VERSION") == "name-moved")
        }
    }

    /// A check failing before the deploy and after it is tolerated (no rollback), but it did not
    /// pass: the release is not last-known-good, and the summary does not say "all checks pass".
    @Test func aCheckFailingBeforeAndAfterTheDeployLeavesTheReleaseUnverified() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let release = try await sandbox.commit(on: "main", files: ["VERSION": "known-failure\n"], message: "a release deployed while the report is not scheduled")
            let crontab = try await sandbox.sh("crontab -l")
            // The weekly report's line gone: cron-scheduled fails before the deploy and after it.
            try await sandbox.sh("crontab -l | grep -v weekly_strategy_review | crontab -")
            let deployed: CommandResult
            do {
                deployed = try await botops(["deploy", "--config", config, "--service", "sighook"])
            } catch {
                try? await sandbox.sh("printf '%s\\n' \(shellQuote(crontab)) | crontab -")
                throw error
            }
            try await sandbox.sh("printf '%s\\n' \(shellQuote(crontab)) | crontab -")
            #expect(try await sandbox.sh("crontab -l") == crontab)
            #expect(deployed.termination == .exited(0), "\(deployed.stdoutText)\n\(deployed.stderrText)")
            #expect(deployed.stdoutText.contains("already failing before the deploy: cron-scheduled"), "\(deployed.stdoutText)")
            #expect(deployed.stdoutText.contains("unverified: 1 check failing as before the deploy (cron-scheduled)"), "\(deployed.stdoutText)")
            #expect(!deployed.stdoutText.contains("all checks pass; it is now the last-known-good release"), "\(deployed.stdoutText)")
            let recorded = try JSONDecoder().decode(Releases.self, from: Data(try await sandbox.sh("cat ~/.botops/releases.json").utf8))
            #expect(recorded.services["sighook"]?.last?.revision == release && recorded.services["sighook"]?.last?.isVerified == false)
        }
    }

    /// A check's message quotes the report script's output: the operator sees it, the audit does not.
    @Test func commandOutputNeverReachesTheAudit() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let marker = "AUDIT-LEAK-MARKER-\(UInt32.random(in: 1_000_000...9_999_999))"
            _ = try await sandbox.commit(on: "main", files: ["weekly_strategy_review.sh": "#!/bin/bash\necho '\(marker) from the report' >&2\nexit 1\n"],
                                         executable: ["weekly_strategy_review.sh"], message: "a report script that fails, printing a marker")
            let deployed = try await botops(["deploy", "--config", config, "--service", "sighook"])
            #expect(deployed.termination == .exited(1), "\(deployed.stdoutText)\n\(deployed.stderrText)")
            #expect(deployed.stdoutText.contains(marker), "the operator sees the script's output")
            let record = try #require(try await sandbox.audit(last: 1).last)
            #expect(record.result == "rolled-back" && record.failure == "checks: check failed: report-generation", "\(record)")
            #expect(try await sandbox.sh("grep -c \(shellQuote(marker)) ~/.botops/audit.jsonl || true") == "0")
            let history = try await botops(["history", "--config", config, "-n", "3"])
            #expect(!history.stdoutText.contains(marker))
        }
    }

    /// A deploy.yml whose checks step says `on_failure: continue`: a failing check lets the deploy
    /// go on, and its release is recorded unverified (not last-known-good, not a crash after it
    /// went live), with its success audit line.
    @Test func aChecksStepThatFailsUnderContinueRecordsAnUnverifiedRelease() async throws {
        try await DeploySandbox.scenario { sandbox in
            let playbooks = FileManager.default.temporaryDirectory.appendingPathComponent("botops-continue-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: playbooks, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: playbooks) }
            let checks = "  - name: checks\n    builtin: checks\n    timeout: 5m\n"
            let deploy = Playbook.Kind.deploy.builtInText
            #expect(deploy.contains(checks))
            try deploy.replacing(checks, with: checks + "    on_failure: continue\n")
                .write(to: playbooks.appendingPathComponent("deploy.yml"), atomically: true, encoding: .utf8)
            let config = try sandbox.config(compose: "docker-compose", playbooks: playbooks.path)
            // VERSION too: an image of main's content recorded under this revision would let a later
            // cached rebuild of main look like this release running (findRunningRelease).
            let release = try await sandbox.commit(on: "main", files: ["weekly_strategy_review.sh": "#!/bin/bash\nexit 1\n", "VERSION": "continue-unverified\n"],
                                                   executable: ["weekly_strategy_review.sh"], message: "a report script that fails under on_failure: continue")
            let deployed = try await botops(["deploy", "--config", config, "--service", "sighook"])
            #expect(deployed.termination == .exited(0), "\(deployed.stdoutText)\n\(deployed.stderrText)")
            #expect(deployed.stdoutText.contains("unverified: step checks failed (on_failure: continue), so it is not a last-known-good release"), "\(deployed.stdoutText)")
            let recorded = try JSONDecoder().decode(Releases.self, from: Data(try await sandbox.sh("cat ~/.botops/releases.json").utf8))
            #expect(recorded.services["sighook"]?.last?.revision == release && recorded.services["sighook"]?.last?.isVerified == false)
            let record = try #require(try await sandbox.audit(last: 1).last)
            #expect(record.result == "success" && record.recordFailed == nil, "\(record)")
        }
    }

    /// A rollback.yml without a checks step (the operator's override) verifies nothing: neither
    /// the automatic rollback after a failed deploy nor `botops rollback` may say the checks pass
    /// or exit as if they did (1 "rolled back, healthy" / 0): both say so and exit 5.
    @Test func aRollbackWithoutAChecksStepSaysItVerifiedNothing() async throws {
        try await DeploySandbox.scenario { sandbox in
            let directory = try temporaryDirectory().appendingPathComponent("playbooks")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let checks = "  - name: checks\n    builtin: checks\n    timeout: 5m\n"
            let rollback = Playbook.Kind.rollback.builtInText
            #expect(rollback.contains(checks))
            try rollback.replacing(checks, with: "").write(to: directory.appendingPathComponent("rollback.yml"), atomically: true, encoding: .utf8)
            let config = try sandbox.config(compose: "docker-compose", playbooks: directory.path)
            let before = String(sandbox.mainHead.prefix(12))
            _ = try await sandbox.commit(on: "main", files: ["weekly_strategy_review.sh": "#!/bin/bash\nexit 1\n", "VERSION": "rollback-unchecked\n"],
                                         executable: ["weekly_strategy_review.sh"], message: "a release whose checks fail, rolled back by a rollback.yml without checks")
            let failed = try await botops(["deploy", "--config", config, "--service", "sighook"])
            #expect(failed.termination == .exited(5), "\(failed.stdoutText)\n\(failed.stderrText)")
            #expect(failed.stdoutText.contains("Rolled back to main at \(before) (kept image, no rebuild where it was kept); checks not run: rollback.yml has no checks step"), "\(failed.stdoutText)")
            #expect(!failed.stdoutText.contains("the host is healthy"), "\(failed.stdoutText)")
            // The deploy's own failure is still what the run reports first.
            #expect(failed.stdoutText.contains("deploy of sighook failed at checks: check"), "\(failed.stdoutText)")
            // The audit does not call a rollback nothing verified a success (status paints that green).
            let deployRecord = try #require(try await sandbox.audit(last: 1).last)
            #expect(deployRecord.result == "rolled-back" && deployRecord.rollback?.result == "unverified", "\(deployRecord)")

            let rolled = try await botops(["rollback", "--config", config, "--service", "sighook", "--to", before])
            #expect(rolled.termination == .exited(5), "\(rolled.stdoutText)\n\(rolled.stderrText)")
            #expect(rolled.stdoutText.contains("rolled back sighook to main at \(before): checks not run: rollback.yml has no checks step."), "\(rolled.stdoutText)")
            #expect(!rolled.stdoutText.contains("the checks pass"), "\(rolled.stdoutText)")
            let rollbackRecord = try #require(try await sandbox.audit(last: 1).last)
            #expect(rollbackRecord.action == "rollback" && rollbackRecord.result == "unverified", "\(rollbackRecord)")
            #expect(try await sandbox.sh("docker exec sighook cat /app/VERSION") != "rollback-unchecked")
        }
    }

    /// CI and the operator as two ssh users share one state directory through a group; one the
    /// ssh user cannot write is a config error before anything runs.
    @Test func aStateDirectorySharedByAGroupAndOneThatCannotBeWritten() async throws {
        try await DeploySandbox.withLock {
            let sandbox = try await DeploySandbox.connect()
            try await sandbox.host.closing {
                let shared = "/tmp/botops-shared-\(UUID().uuidString.prefix(8))"
                let config = try sandbox.config()
                try (try String(contentsOfFile: config, encoding: .utf8) + "state_dir: \(shared)\n").write(toFile: config, atomically: true, encoding: .utf8)
                let refused = try await botops(["deploy", "--config", config, "--service", "sighook,nosuch"])
                let modes = try await sandbox.sh("stat -c '%a %n' \(shellQuote(shared)) \(shellQuote(shared))/lock \(shellQuote(shared))/audit.jsonl; rm -rf \(shellQuote(shared))")
                #expect(refused.termination == .exited(2), "\(refused.stdoutText)\n\(refused.stderrText)")
                #expect(modes == "2770 \(shared)\n660 \(shared)/lock\n660 \(shared)/audit.jsonl")

                let unwritable = try sandbox.config()
                try (try String(contentsOfFile: unwritable, encoding: .utf8) + "state_dir: /root/botops-state-test\n").write(toFile: unwritable, atomically: true, encoding: .utf8)
                let denied = try await botops(["deploy", "--config", unwritable, "--service", "sighook"])
                #expect(denied.termination == .exited(2), "\(denied.stdoutText)\n\(denied.stderrText)")
                #expect(denied.stderrText.contains("the state directory /root/botops-state-test cannot be created or written"), "\(denied.stderrText)")
                #expect(!denied.stdoutText.contains("preflight"), "nothing ran after the lock step")
            }
        }
    }

    /// CI as one user and the operator as another, each with `~/.botops`: two locks, two histories.
    /// When the checkout belongs to another user than the ssh user, the preflight says so and names
    /// state_dir; with a shared state_dir it has nothing to say. The checkout's directory is given to
    /// root for this test alone (git trusts it through safe.directory meanwhile); both are put back.
    @Test(.enabled(if: getuid() == 0, "changes the checkout's owner: needs root on the sandbox machine"))
    func theCheckoutOfAnotherUserIsNamedWithStateDirAsTheFix() async throws {
        try await DeploySandbox.withLock {
            let sandbox = try await DeploySandbox.connect()
            try await sandbox.host.closing {
                let app = sandbox.sandbox.app
                let owner = try local(["stat", "-c", "%u:%g", app])
                let user = try await sandbox.sh("id -un")
                let gitconfig = try await sandbox.sh("cat ~/.gitconfig 2>/dev/null || echo ABSENT")
                let shared = "/tmp/botops-owner-\(UUID().uuidString.prefix(8))"
                let config = try sandbox.config()
                let sharedConfig = try sandbox.config()
                try (try String(contentsOfFile: sharedConfig, encoding: .utf8) + "state_dir: \(shared)\n").write(toFile: sharedConfig, atomically: true, encoding: .utf8)
                var separate: CommandResult?
                var together: CommandResult?
                var failure: Error?
                do {
                    try await sandbox.sh("git config --global --add safe.directory \(shellQuote(app))")
                    _ = try local(["chown", "root", app])
                    separate = try await botops(["deploy", "--config", config, "--service", "sighook,nosuch"])
                    together = try await botops(["deploy", "--config", sharedConfig, "--service", "sighook,nosuch"])
                } catch {
                    failure = error
                }
                _ = try local(["chown", owner, app])
                try await sandbox.sh(gitconfig == "ABSENT" ? "rm -f ~/.gitconfig" : "printf '%s\\n' \(shellQuote(gitconfig)) > ~/.gitconfig")
                try await sandbox.sh("rm -rf \(shellQuote(shared))")
                if let failure { throw failure }
                #expect(try local(["stat", "-c", "%u:%g", app]) == owner)
                let warned = try #require(separate)
                #expect(warned.termination == .exited(2), "\(warned.stdoutText)\n\(warned.stderrText)")
                #expect(warned.stdoutText.contains("the checkout \(app) belongs to root, but botops connects as \(user)") && warned.stdoutText.contains("(state_dir)"),
                        "\(warned.stdoutText)")
                let quiet = try #require(together)
                #expect(quiet.termination == .exited(2), "\(quiet.stdoutText)\n\(quiet.stderrText)")
                #expect(quiet.stdoutText.contains("preflight") && !quiet.stdoutText.contains("belongs to root"), "\(quiet.stdoutText)")
            }
        }
    }

    /// Runs a program on this machine (the sandbox's), returning its trimmed output; it must succeed.
    func local(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("\(arguments.joined(separator: " ")) ended with \(process.terminationStatus)") }
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// With the database paused the checks that need it are skipped: the deploy is refused, and
    /// with --unverified it goes ahead but is recorded unverified.
    @Test func aDatabaseDownBeforeTheDeployIsRefusedUnlessUnverified() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let release = try await sandbox.commit(on: "main", files: ["VERSION": "unverified\n"], message: "a release deployed while the db is down")
            try await sandbox.sh("docker pause db")
            let refused: CommandResult
            let unverified: CommandResult
            do {
                refused = try await botops(["deploy", "--config", config, "--service", "sighook"])
                unverified = try await botops(["deploy", "--config", config, "--service", "sighook", "--unverified"])
            } catch {
                try? await sandbox.sh("docker unpause db")
                throw error
            }
            try await sandbox.sh("docker unpause db")
            #expect(refused.termination == .exited(4), "\(refused.stdoutText)\n\(refused.stderrText)")
            #expect(refused.stderrText.contains("the database is not running before the deploy") && refused.stderrText.contains("--unverified"), "\(refused.stderrText)")
            #expect(unverified.termination == .exited(0), "\(unverified.stdoutText)\n\(unverified.stderrText)")
            #expect(unverified.stdoutText.contains("unverified: 5 checks skipped"), "\(unverified.stdoutText)")
            #expect(!unverified.stdoutText.contains("last-known-good release."))
            let releases = try await sandbox.sh("cat ~/.botops/releases.json")
            let recorded = try JSONDecoder().decode(Releases.self, from: Data(releases.utf8))
            #expect(recorded.services["sighook"]?.last?.revision == release && recorded.services["sighook"]?.last?.isVerified == false)
        }
    }
}
