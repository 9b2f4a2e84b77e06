import Foundation
import Remote

extension Deployer {
    /// Deploy's own `compose config` judgement of `services`, for `gate --service`: the gate
    /// refuses what this part of deploy's preflight refuses (a service the compose file does not
    /// have, the database, a compose file that does not resolve). Read-only.
    static func judgeServices(_ services: [String], config: BotOpsConfig, runner: any CommandRunner, timeout: Duration) async throws {
        let deployer = Deployer(config: config, deployPlaybook: Playbook(kind: .deploy, file: "", steps: []),
                                rollbackPlaybook: Playbook(kind: .rollback, file: "", steps: []), runner: runner, emit: { _ in })
        deployer.run.services = services
        do {
            try deployer.resolveCompose(try await runner.run(deployer.commands.composeConfig(config, timeout: timeout)))
        } catch let failure as StepFailure {
            throw failure.refusal ?? DeployError.hostCommandFailed(step: "compose config", detail: failure.message)
        }
    }
}
