import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// Deploy and rollback on the user's host layout: the data on a plain named volume of compose
/// project bottrader-aws, which is not the project compose derives from the checkout's directory,
/// and app services without healthchecks.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct VariantDeployTests {
    @Test func theUserHostLayoutDeploysAndRollsBackInTheRunningProject() async throws {
        try await DeploySandbox.scenario(layout: .userHost) { sandbox in
            let config = try sandbox.config()
            #expect(try await sandbox.runningProject() == "bottrader-aws")
            let dbContainer = try await sandbox.sh("docker inspect -f '{{.Id}}' db")
            let original = try await sandbox.runningImage("sighook")
            let volumes = try await sandbox.sh("docker volume ls -q | sort")

            let good = try await sandbox.commit(on: "main", files: ["VERSION": "2-good\n"], message: "sighook: new release")
            let (first, firstEvents) = try sandbox.deployer(config)
            let deployed = try await first.deploy(DeployRequest(services: ["sighook"], command: "botops deploy --service sighook"))
            #expect(deployed.exitCode == .success, "\(firstEvents.text)")
            #expect(try await sandbox.sh("docker exec sighook cat /app/VERSION") == "2-good")
            #expect(try await sandbox.runningImage("sighook") != original)
            #expect(try await sandbox.checkout() == ("main", good))
            // Still one stack: sighook in the running project, nothing in the derived one, the same db.
            #expect(try await sandbox.sh(#"docker inspect -f '{{index .Config.Labels "com.docker.compose.project"}}' sighook"#) == "bottrader-aws")
            #expect(try await sandbox.sh("docker ps -aq --filter label=com.docker.compose.project=bot") == "")
            #expect(try await sandbox.sh("docker volume ls -q | sort") == volumes, "compose created volumes: a second stack")
            #expect(try await sandbox.sh("docker inspect -f '{{.Id}}' db") == dbContainer)
            // `botops logs` finds the container in the running project too.
            let logs = try await ServiceLogs(service: "sighook", tail: 5).run(try BotOpsConfig.load(path: config), on: sandbox.host) { _ in }
            #expect(logs == .exited(0))

            // A release that exits at start: wait-healthy fails, and the rollback to the kept image succeeds.
            try await sandbox.commit(on: "main", files: ["faults/sighook.exit-at-start": ""], message: "sighook: broken release")
            let (second, secondEvents) = try sandbox.deployer(config)
            let failed = try await second.deploy(DeployRequest(services: ["sighook"], command: "botops deploy --service sighook"))
            #expect(failed.exitCode == .failed, "\(secondEvents.text)")
            #expect(failed.result == .rolledBack, "\(secondEvents.text)")
            #expect(try await sandbox.sh("docker exec sighook cat /app/VERSION") == "2-good")
            #expect(try await sandbox.sh("docker inspect -f '{{.Id}}' db") == dbContainer)
            #expect(try await sandbox.sh("docker volume ls -q | sort") == volumes)
        }
    }
}
