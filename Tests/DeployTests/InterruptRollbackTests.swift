@testable import BotOpsKit
import Foundation
import HostCommands
import Remote
import SandboxSupport
import Testing

/// `botops rollback` interrupted follows the deploy's rules: the step that changes the running
/// service runs to its end, a stopped service is started again, nothing after runs, the report
/// names the command that finishes it, exit 128 + the signal.
@Suite(.enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct InterruptRollbackTests {
    @Test func aRollbackInterruptedDuringStopStartsTheOldContainerAgainAndSaysHowToFinish() async throws {
        try await DeploySandbox.scenario { sandbox in
            let path = try sandbox.config(compose: "docker-compose")
            let original = try await sandbox.runningImage("sighook")
            let head = try await sandbox.checkout().revision
            let interruption = Interruption()
            let (deployer, events) = try interruptibleDeployer(sandbox.host, config: path, interruption: interruption) { event in
                if case .stepStarted("rollback: stop", _, _) = event { interruption.request(SIGTERM) }
            }
            let outcome = try await deployer.rollback(RollbackRequest(services: ["sighook"], to: head, command: "botops rollback --service sighook --to \(head)"))
            #expect(outcome.result == .interrupted, "\(events.text)")
            #expect(outcome.processExitCode == 143)
            #expect(events.stepNames.last == "rollback: stop", "stop ran to its end, nothing after it: \(events.stepNames)")
            #expect(events.notices.contains { $0.contains("started the old container of sighook again") }, "\(events.text)")
            #expect(try await sandbox.sh("docker inspect -f '{{.State.Running}}' sighook") == "true")
            #expect(try await sandbox.runningImage("sighook") == original)
            #expect(outcome.summary.contains("rollback interrupted by SIGTERM during step rollback: stop"), "\(outcome.summary)")
            #expect(outcome.advice?.contains("To finish the rollback: botops rollback --service sighook --to \(head.prefix(12))") == true, "\(String(describing: outcome.advice))")
            #expect(JSONEventRenderer().render(.finished(outcome))?.contains("\"exit_code\":143") == true)
            let record = try #require(try await sandbox.audit(last: 1).last)
            #expect(record.action == "rollback" && record.result == "interrupted" && record.failure == "SIGTERM during step rollback: stop", "\(record)")
            #expect(try await DeployLock(state: StateDirectory(path: "~/.botops"), staleAfter: .seconds(3600), runner: sandbox.host).status() == .free(interrupted: nil))
        }
    }
}
