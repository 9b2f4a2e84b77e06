import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// Deploys and rollbacks for real on the sandbox host: git, docker, compose and PostgreSQL.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct DeployE2ETests {
    @Test func newCommitDeploysThenOneThatExitsAtStartRollsBackToTheKeptImage() async throws {
        try await DeploySandbox.scenario { sandbox in
            let config = try sandbox.config(compose: "docker-compose")
            let original = try await sandbox.runningImage("sighook")

            // A new sighook release, which (for the next deploy) ignores SIGTERM with a 3 s grace period.
            let good = try await sandbox.commit(on: "main", files: [
                "VERSION": "2-good\n",
                "faults/sighook.ignore-sigterm": "",
                "docker-compose.aws.yml": try DeploySandbox.composeFile(sighook: ["stop_grace_period: 3s"]),
            ], message: "sighook: new release")
            let (first, firstEvents) = try sandbox.deployer(config)
            let deployed = try await first.deploy(DeployRequest(services: ["sighook"], command: "botops deploy --service sighook"))
            #expect(deployed.exitCode == .success, "\(firstEvents.text)")
            #expect(try await sandbox.sh("docker exec sighook cat /app/VERSION") == "2-good")
            let goodImage = try await sandbox.runningImage("sighook")
            #expect(goodImage != original)
            #expect(try await sandbox.checkout() == ("main", good))
            #expect(firstEvents.stepNames == ["lock", "preflight", "baseline", "keep-image", "checkout", "build", "stop", "up", "wait-healthy", "checks"])
            let success = try #require(try await sandbox.audit(last: 1).last)
            #expect(success.action == "deploy" && success.result == "success" && success.to == good && success.services == ["sighook"])
            #expect(success.sshUser == "bot")

            // A release whose sighook exits at start: health fails, plan A restores the kept image.
            let broken = try await sandbox.commit(on: "main", from: "main", files: ["faults/sighook.exit-at-start": ""], message: "sighook: broken release")
            let (second, secondEvents) = try sandbox.deployer(config)
            let failed = try await second.deploy(DeployRequest(services: ["sighook"], command: "botops deploy --service sighook"))
            #expect(failed.exitCode == .failed, "\(secondEvents.text)")
            #expect(failed.result == .rolledBack)
            #expect(failed.summary.contains("wait-healthy") && failed.summary.contains("the host is healthy"))
            // The kept image itself runs again: same image id, so nothing was rebuilt.
            #expect(try await sandbox.runningImage("sighook") == goodImage)
            #expect(try await sandbox.checkout() == ("main", good))
            #expect(secondEvents.notices.contains { $0.contains("sighook ignored SIGTERM for ") && $0.contains("does not forward signals") }, "\(secondEvents.text)")
            #expect(secondEvents.stepNames.contains("rollback: restore-image"))
            #expect(!secondEvents.stepNames.contains("rollback: build"))
            #expect(secondEvents.text.contains("cannot start: configuration error"), "the failing container's last log lines are shown")
            let record = try #require(try await sandbox.audit(last: 1).last)
            #expect(record.result == "rolled-back")
            #expect(record.to == broken)
            #expect(record.failure?.contains("wait-healthy") == true)
            #expect(record.rollback?.result == "success")
            #expect(record.rollback?.to == good)
        }
    }
}
