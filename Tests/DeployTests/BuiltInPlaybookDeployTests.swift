@testable import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// A user with only the botops binary and a botops.yml in their own directory (no playbooks/
/// beside it) deploys with the playbooks built into botops.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct BuiltInPlaybookDeployTests {
    func botops(_ arguments: [String]) async throws -> CommandResult {
        try await BuiltBinary.botops.run(arguments)
    }

    /// The sandbox's botops.yml, alone in a new directory (no `playbooks:` key, no playbooks/).
    func loneConfig() throws -> (directory: URL, config: String) {
        let directory = try temporaryDirectory()
        let text = try String(contentsOfFile: try Sandbox.require().configFile, encoding: .utf8) + "health: {timeout: 40s, stable_for: 2s}\n"
        let config = directory.appendingPathComponent("botops.yml").path
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        return (directory, config)
    }

    @Test func aBotopsYmlAloneDeploysWithTheBuiltInPlaybooks() async throws {
        try await DeploySandbox.scenario { sandbox in
            let (directory, config) = try loneConfig()
            defer { try? FileManager.default.removeItem(at: directory) }
            let branch = "test/built-in-playbooks"
            let target = try await sandbox.commit(on: branch, files: ["VERSION": "6-built-in\n"], message: "deployed with the built-in playbooks")

            let plan = try await botops(["deploy", "--config", config, "--service", "sighook", "--ref", branch, "--dry-run"])
            #expect(plan.termination == .exited(0), "\(plan.stdoutText)\n\(plan.stderrText)")
            let playbooks = directory.appendingPathComponent("playbooks").path
            #expect(plan.stdoutText.contains("deploy.yml: built into botops (there is no \(playbooks)/deploy.yml)"), "\(plan.stdoutText)")
            #expect(plan.stdoutText.contains("rollback.yml: built into botops (there is no \(playbooks)/rollback.yml)"), "\(plan.stdoutText)")

            let deployed = try await botops(["deploy", "--config", config, "--service", "sighook", "--ref", branch])
            #expect(deployed.termination == .exited(0), "\(deployed.stdoutText)\n\(deployed.stderrText)")
            #expect(try await sandbox.checkout() == (branch, target))
        }
    }

    /// Playbooks exported before `touches:` existed still deploy (never refused), each undeclared
    /// `run:` step named in a warning with the key to add.
    @Test func playbooksFromBeforeTouchesStillDeployWithAWarning() async throws {
        try await DeploySandbox.scenario { sandbox in
            let (directory, config) = try loneConfig()
            defer { try? FileManager.default.removeItem(at: directory) }
            let playbooks = directory.appendingPathComponent("playbooks")
            try FileManager.default.createDirectory(at: playbooks, withIntermediateDirectories: true)
            try PlaybooksBeforeTouches.deploy.write(to: playbooks.appendingPathComponent("deploy.yml"), atomically: true, encoding: .utf8)
            try PlaybooksBeforeTouches.rollback.write(to: playbooks.appendingPathComponent("rollback.yml"), atomically: true, encoding: .utf8)
            let branch = "test/playbooks-before-touches"
            let target = try await sandbox.commit(on: branch, files: ["VERSION": "7-before-touches\n"], message: "deployed with playbooks from before touches")

            let plan = try await botops(["deploy", "--config", config, "--service", "sighook", "--ref", branch, "--dry-run"])
            #expect(plan.termination == .exited(0), "\(plan.stdoutText)\n\(plan.stderrText)")
            #expect(plan.stdoutText.contains("warning: \(playbooks.path)/deploy.yml: step 'up'"), "\(plan.stdoutText)")
            #expect(plan.stdoutText.contains("Add 'touches: containers'"), "\(plan.stdoutText)")

            let deployed = try await botops(["deploy", "--config", config, "--service", "sighook", "--ref", branch])
            #expect(deployed.termination == .exited(0), "\(deployed.stdoutText)\n\(deployed.stderrText)")
            #expect(try await sandbox.checkout() == (branch, target))
        }
    }

    @Test func aPlaybookBesideBotopsYmlReplacesOnlyItsBuiltInCounterpart() async throws {
        try await DeploySandbox.withLock {
            do {
                let (directory, config) = try loneConfig()
                defer { try? FileManager.default.removeItem(at: directory) }
                let playbooks = directory.appendingPathComponent("playbooks")
                let exported = try await botops(["playbooks", "export", playbooks.path])
                #expect(exported.termination == .exited(0), "\(exported.stderrText)")
                try FileManager.default.removeItem(at: playbooks.appendingPathComponent("rollback.yml"))
                let own = try String(contentsOf: playbooks.appendingPathComponent("deploy.yml"), encoding: .utf8)
                    .replacing("- name: build\n", with: "- name: our-build\n")
                try own.write(to: playbooks.appendingPathComponent("deploy.yml"), atomically: true, encoding: .utf8)

                let plan = try await botops(["deploy", "--config", config, "--service", "sighook", "--dry-run"])
                #expect(plan.termination == .exited(0), "\(plan.stdoutText)\n\(plan.stderrText)")
                #expect(plan.stdoutText.contains("deploy.yml: \(playbooks.path)/deploy.yml;"), "\(plan.stdoutText)")
                #expect(plan.stdoutText.contains("rollback.yml: built into botops"), "\(plan.stdoutText)")
                #expect(plan.stdoutText.contains("our-build"), "\(plan.stdoutText)")

                let again = try await botops(["playbooks", "export", playbooks.path])
                #expect(again.termination == .exited(4))
                #expect(again.stderrText.contains("--force"))
            }
        }
    }
}
