import Foundation
import Remote

extension Deployer {
    /// Deploy's own read-only preflight for `services`, for `gate --service`: the gate refuses what
    /// it refuses (a service the compose file does not have, the database, a compose file that does
    /// not resolve, low disk, and the checkout rules the other gates also name). Changes nothing.
    static func preflight(_ services: [String], config: BotOpsConfig, runner: any CommandRunner, timeout: Duration) async throws {
        // Only the preflight runs: the playbooks are the smallest valid ones, never run.
        func playbook(_ kind: Playbook.Kind, _ steps: [BuiltinStep]) throws -> Playbook {
            try Playbook.parse("steps:\n" + steps.map { "  - name: \($0.rawValue)\n    builtin: \($0.rawValue)\n" }.joined(), file: "gate", kind: kind)
        }
        let deployer = Deployer(config: config, deployPlaybook: try playbook(.deploy, Playbook.Kind.deploy.required),
                                rollbackPlaybook: try playbook(.rollback, Playbook.Kind.rollback.required), runner: runner, emit: { _ in })
        deployer.run.services = services
        do {
            try await deployer.inspectHost(timeout: timeout, requireBranch: true)
        } catch let failure as StepFailure {
            throw failure.refusal ?? DeployError.hostCommandFailed(step: "preflight", detail: failure.message)
        }
    }
}
