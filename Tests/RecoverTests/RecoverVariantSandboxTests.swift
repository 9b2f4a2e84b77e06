import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// `botops recover` on the user's own compose file: the db's data on a plain named volume of
/// project bottrader-aws and no healthcheck on any service. A removed db container and a stopped
/// service come back in that project, on that volume, and the wait for them ends on their
/// readiness alone (no healthcheck to report healthy); with either compose spelling.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct RecoverVariantSandboxTests {
    @Test(arguments: ["docker-compose", "docker compose"])
    func aRemovedDatabaseAndAStoppedServiceComeBackOnTheNamedVolumeWithoutHealthchecks(compose: String) async throws {
        try await HostScene.run { scene in
            // Recover recreates the missing db with compose: each spelling must find its project.
            try scene.replaceInConfig("command: auto", with: "command: \(compose)")
            try await StackVariant.userHost.applied {
                #expect(try await scene.sh(#"docker inspect -f '{{if .State.Health}}health{{else}}none{{end}} {{index .Config.Labels "com.docker.compose.project"}}' db sighook | sort -u"#)
                        == "none bottrader-aws")
                let ledger = try await RecoverSandboxTests.fingerprint(scene)
                let volumes = try await scene.sh("docker volume ls -q | sort")
                try await scene.sh("docker stop db sighook >/dev/null && docker rm db >/dev/null")
                do {
                    let result = try await scene.botops(["recover", "--yes", "--format", "json"])
                    #expect(result.termination == .exited(0), "\(result.stdoutText)\n\(result.stderrText)")
                    let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdoutText.utf8)) as? [String: Any], "\(result.stdoutText)")
                    #expect((report["broken"] as? [String])?.contains("the database container db is missing") == true, "\(report["broken"] ?? "")")
                    let checks = try #require(report["checks"] as? [[String: String]], "\(report)")
                    #expect(checks.count == 9 && checks.allSatisfy { $0["status"] == "pass" }, "\(checks)")
                    #expect(try await scene.sh(#"docker inspect -f '{{index .Config.Labels "com.docker.compose.project"}} {{range .Mounts}}{{.Name}}{{end}}' db"#)
                            == "bottrader-aws bottrader-aws_pg_data", "the same project, the same volume")
                    #expect(try await scene.sh("docker inspect -f '{{.State.Status}}' db sighook webhook report-job | sort -u") == "running")
                    #expect(try await scene.sh("docker volume ls -q | sort") == volumes, "no volume was created")
                    #expect(try await RecoverSandboxTests.fingerprint(scene) == ledger)
                    // status reads the same host: everything running, no health to show, the checkout clean.
                    let status = try await scene.json(["status", "--crontab-dir", HostScene.repositoryRoot.appendingPathComponent("crontab.d").path])
                    #expect((status["database"] as? [String: Any])?["state"] as? String == "running", "\(status)")
                    let services = try #require(status["services"] as? [[String: Any]], "\(status)")
                    #expect(services.count == 3 && services.allSatisfy { $0["state"] as? String == "running" && $0["health"] == nil }, "\(services)")
                    #expect((status["checkout"] as? [String: Any])?["clean"] as? Bool == true, "\(status)")
                } catch {
                    Issue.record("\(error)")
                }
            }
        }
    }
}
