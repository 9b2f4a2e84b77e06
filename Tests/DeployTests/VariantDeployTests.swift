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

/// `scripts/sandbox restack` (and so `sandbox up`) never starts the db on another volume: a
/// checkout left on the user's layout by an interrupted test, restacked as the derived project,
/// would mount `bot_pg_data`, a new and empty volume.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct SandboxRestackTests {
    @Test func restackRefusesACheckoutThatPutsTheDataOnAnotherVolume() async throws {
        try await DeploySandbox.scenario { sandbox in
            let dbContainer = try await sandbox.sh("docker inspect -f '{{.Id}}' db")
            let volumes = try await sandbox.sh("docker volume ls -q | sort")
            try await sandbox.commit(on: "test/restack", files: ["docker-compose.aws.yml": try SandboxLayout.userHost.composeFile()],
                                     message: "the user's layout, left checked out")
            try await sandbox.sh("cd \(shellQuote(sandbox.sandbox.app)) && git fetch -q origin && git checkout -q -b test/restack origin/test/restack")
            await #expect(throws: TestFailure.self) { try await SandboxLayout.restack(project: nil) }
            let replaced = try await sandbox.sh("docker inspect -f '{{.Id}}' db") != dbContainer
            let after = try await sandbox.sh("docker volume ls -q | sort")
            #expect(!replaced, "the db container was replaced")
            #expect(after == volumes, "restack created a volume")
            // Puts the stack back if restack went through (what this test guards against), while
            // the lock is still held: the default layout again, and the new empty volume gone.
            try await sandbox.sh("cd \(shellQuote(sandbox.sandbox.app)) && git checkout -q -f main")
            if replaced { try await SandboxLayout.restack(project: nil) }
            let created = Set(after.split(separator: "\n")).subtracting(volumes.split(separator: "\n"))
            if !created.isEmpty { try await sandbox.sh("docker volume rm \(created.map { shellQuote(String($0)) }.joined(separator: " ")) >/dev/null") }
        }
    }
}
