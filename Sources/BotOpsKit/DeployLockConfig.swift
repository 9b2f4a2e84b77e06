import HostState
import Remote

extension DeployLock {
    /// The deploy lock botops.yml configures: every command builds it here.
    public init(_ config: BotOpsConfig, runner: any CommandRunner) {
        self.init(state: config.deploy.stateDirectory, staleAfter: config.deploy.lockStaleAfter, runner: runner)
    }
}
