import HostCommands

/// One step of a playbook as botops runs it: what it does, and the commands `--dry-run` shows for
/// it, side by side in one value, so the plan is asked of the same step the run executes.
protocol DeployStep: Sendable {
    /// Runs the step on the deployer's host; returns a note for the step's summary line.
    func run(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) async throws -> String?
    /// The commands the step would run, from the read-only facts the dry run gathered.
    func plan(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) -> [RemoteCommand]
}

extension PlaybookStep {
    /// The step that runs this playbook entry.
    var body: any DeployStep {
        switch action {
        case .run(let template): return RunStep(template: template)
        case .builtin(let builtin): return builtin.body
        }
    }
}

extension BuiltinStep {
    /// Each built-in step is one type in Deploy/Steps.
    var body: any DeployStep {
        switch self {
        case .lock: return LockStep()
        case .preflight: return PreflightStep()
        case .baseline: return BaselineStep()
        case .keepImage: return KeepImageStep()
        case .checkout: return CheckoutStep()
        case .restoreImage: return RestoreImageStep()
        case .stop: return StopStep()
        case .waitHealthy: return WaitHealthyStep()
        case .checks: return ChecksStep()
        }
    }
}
