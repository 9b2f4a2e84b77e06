import Checks
import Foundation
import HostCommands
import Remote

/// `builtin: preflight`: the read-only look at the checkout, the database container and the
/// compose file before anything changes.
struct PreflightStep: DeployStep {
    func run(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) async throws -> String? {
        try await deployer.preflight(timeout: step.timeout)
    }

    func plan(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) -> [RemoteCommand] {
        let (commands, timeout) = (deployer.commands, step.timeout)
        return [commands.preflightProbe(timeout: timeout), commands.runningDatabase(deployer.config.database.container, timeout: timeout),
                commands.composeConfig(deployer.config, timeout: timeout)]
    }
}

extension Deployer {
    fileprivate func preflight(timeout: Duration) async throws -> String? {
        prefetchReadOnlyFacts()
        try await inspectHost(timeout: timeout, requireBranch: run.request?.ref == nil)
        let checkout = try run.checkoutBefore.value()
        return "\(commands.compose.program.joined(separator: " ")), checkout clean on \(checkout.branch ?? "a detached revision") at \(checkout.revision.prefix(12))"
    }

    /// The baseline checks and the running containers are read-only: they start with the preflight
    /// and run beside it, instead of after it (the checks alone take about half a second).
    fileprivate func prefetchReadOnlyFacts() {
        let (runner, commands, services, config) = (runner, commands, run.services, config)
        if let step = deployPlaybook.steps.first(where: { $0.action == .builtin(.baseline) }) {
            run.prefetchedBaseline = Task { await (try Verification(config: config, timeout: step.timeout)).checks(on: runner) }
        }
        run.prefetchedContainers = Task { try await Self.containers(services, commands: commands, runner: runner) }
    }

    /// The read-only preflight: the checkout probe runs beside the database container's; then
    /// `compose config` in the running stack's project, and all are judged. `meanwhile` runs once
    /// the checkout is judged, while compose still reads the compose file (it takes most of a second).
    func inspectHost(timeout: Duration, requireBranch: Bool, meanwhile: () async -> Void = {}) async throws {
        async let probe = runner.run(commands.preflightProbe(timeout: timeout))
        let probed = try await runner.run(commands.runningDatabase(config.database.container, timeout: timeout))
        let database = try RunningDatabase.parse(stdout: probed.stdout, stderr: probed.result.stderrText, container: config.database.container)
        commands.compose.project = database.project
        async let composeConfig = runner.run(commands.composeConfig(config, timeout: timeout))
        try inspectCheckout(try await probe, requireBranch: requireBranch)
        await meanwhile()
        let project = try resolveCompose(try await composeConfig, database: database, revision: run.checkoutBefore.value().revision)
        try run.stack.produce(RunningStack(database: database, project: project), by: run.producer(.preflight))
    }

    /// The checkout is clean, on the configured branch when no `--ref` was given, with free disk;
    /// the ssh user and release records are read on the way.
    fileprivate func inspectCheckout(_ result: RemoteCommandResult, requireBranch: Bool) throws {
        let reading: CheckoutReading
        switch CheckoutReading.parse(result.stdout, termination: result.result.termination, marker: commands.marker) {
        case .failure(.noCheckout):
            throw StepFailure(message: "no checkout at \(config.path): clone the app there first (or fix path: in botops.yml)", refusal: nil)
        case .failure(.stoppedEarly):
            throw StepFailure(message: "the preflight probe stopped early: \(result.shownOutput.prefix(300))", refusal: nil, audited: "the preflight probe stopped early")
        case .success(let read):
            reading = read
        }
        // Produced as soon as read: the audit of a refusal below names them.
        if let user = reading.user { try run.sshUser.produce(user, by: run.producer(.preflight)) }
        warnAboutSeparateState(owner: reading.owner, user: reading.user)
        try reading.requireGit(GitRead.preflight, path: config.path)
        if !reading.changed.isEmpty {
            throw DeployError.dirtyCheckout(path: config.path, files: reading.changed)
        }
        let checkout = CheckoutBefore(branch: reading.branch, revision: reading.head)
        try run.checkoutBefore.produce(checkout, by: run.producer(.preflight))
        if requireBranch, checkout.branch != config.branch {
            throw checkout.branch.map { DeployError.wrongBranch(path: config.path, current: $0, target: config.branch) }
                ?? DeployError.detachedCheckout(path: config.path, revision: checkout.revision, target: config.branch)
        }
        try Self.judgeDisks(reading.disk, needed: config.deploy.minFreeDiskBytes)
        try run.releases.produce(try reading.releases(file: releasesFile), by: run.producer(.preflight))
    }

    /// Each disk preflight reads has `needed` bytes free. A disk df printed nothing for is refused
    /// too: the build that would fill it fails half-way, with the containers stopped, and backup
    /// and restore refuse the same way. `min_free_disk: 0` judges no disk, read or not.
    static func judgeDisks(_ disks: [PreflightDisk: FreeDisk], needed: Int64) throws {
        guard needed > 0 else { return }
        for name in PreflightDisk.allCases {
            guard let disk = disks[name] else { throw DeployError.diskUnreadable(disk: name.described) }
            if disk.freeBytes < needed { throw DeployError.lowDisk(path: disk.mount, freeBytes: disk.freeBytes, neededBytes: needed) }
        }
    }

    /// Where the release records live, as messages name them.
    var releasesFile: String { config.deploy.stateDirectory.path + "/releases.json" }

    /// CI deploying as one user and the operator as another would get two locks and two
    /// histories in their own homes without knowing it.
    fileprivate func warnAboutSeparateState(owner: String?, user: String?) {
        let state = config.deploy.stateDirectory
        guard let owner, let user, owner != user, !state.isShared else { return }
        emit(.notice("the checkout \(config.path) belongs to \(owner), but botops connects as \(user): the lock, the audit and the releases live in \(user)'s \(state.path) (state_dir), so deploys as \(owner) and as \(user) do not see each other. Set state_dir in botops.yml to one directory both share, e.g. /var/lib/botops (group-writable; botops keeps it 2770, its files 660)."))
    }

    /// `compose config`: the services asked for exist, and the database keeps its data.
    fileprivate func resolveCompose(_ result: RemoteCommandResult, database: RunningDatabase, revision: String) throws -> ComposeProject {
        guard let program = ComposeInvocation.program(for: config.compose.command, stderr: result.result.stderrText) else {
            throw DeployError.composeMissing
        }
        commands.compose.program = program
        guard result.succeeded else {
            // stderr names the problem (a missing file, a YAML error) without values from .env.
            throw DeployError.composeConfigFailed(ComposeInvocation.failureText(result.result.stderrText))
        }
        let project = try ComposeProject.parse(result.stdout)
        let unknown = run.services.filter { project.services[$0] == nil }
        if !unknown.isEmpty {
            throw DeployError.unknownService(names: unknown, known: project.serviceNames)
        }
        try database.judge(project, file: config.compose.file, revision: revision)
        if let database = project.databaseService(container: config.database.container), run.services.contains(database.name) {
            throw StepFailure(message: "", refusal: .unknownService(names: [database.name + " (the database is never redeployed by botops)"], known: project.serviceNames.filter { $0 != database.name }))
        }
        return project
    }
}

extension PreflightDisk {
    /// The disk as a refusal names it, with the command that reads it by hand.
    fileprivate var described: String {
        switch self {
        case .dockerRoot: "docker's root directory (df -h \"$(docker info -f '{{.DockerRootDir}}')\")"
        case .checkout: "the checkout (df -h . in it)"
        }
    }
}
