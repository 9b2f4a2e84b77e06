import Foundation
import HostState
import Remote

extension Deployer {
    /// Deploy's own read-only preflight for `services`, for `gate --service`: the gate refuses what
    /// it refuses (a service the compose file does not have, the database, a compose file that does
    /// not resolve, low disk, and the checkout rules the other gates also name). Changes nothing.
    static func preflight(_ services: [String], config: BotOpsConfig, runner: any CommandRunner, timeout: Duration) async throws {
        let deployer = Deployer.readOnly(config: config, runner: runner)
        deployer.run.services = services
        do {
            try await deployer.inspectHost(timeout: timeout, requireBranch: true)
        } catch let failure as StepFailure {
            throw failure.refusal ?? HostStateError.hostCommandFailed(step: "preflight", detail: failure.message)
        }
    }
}
