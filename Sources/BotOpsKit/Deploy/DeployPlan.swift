import Foundation
import HostCommands

/// `--dry-run`: only read-only probes run (lock status, the checkout, `compose config`, the
/// origin's branch head, the running and kept images, free disk); then every command the deploy
/// would run is printed in order with what it would change. Nothing on the host changes.
extension Deployer {
    func plan(_ request: DeployRequest) async throws -> DeployOutcome {
        emit(.started(action: "deploy --dry-run", services: run.services, destination: runner.destination))
        emit(.notice("playbooks: \(deployPlaybook.originDescription); \(rollbackPlaybook.originDescription)"))
        switch try await lock.status() {
        case .held(let holder, let stale):
            emit(.notice("the deploy lock is held now\(stale ? " (stale)" : ""): \(holder?.summary ?? "unknown holder"); a real deploy would wait or be refused"))
        case .free(let interrupted?):
            emit(.notice("the last deploy was interrupted: \(interrupted.summary)"))
        case .free(nil):
            break
        }
        let probeTimeout = Duration.seconds(60)
        try await inspectHost(timeout: probeTimeout, requireBranch: request.ref == nil)
        try run.running.produce(try await runningContainers(run.services), by: run.producer(.keepImage))
        try run.resolvedTarget.produce(try await remoteTarget(request.ref ?? config.branch, timeout: probeTimeout), by: run.producer(.checkout))
        // keep-image's own reading and choice of tags: the rollback shown is the one that would run.
        let tagged = try await readKeptImages(timeout: probeTimeout)
        var kept = KeptImages()
        for service in run.services {
            if let container = run.running.ifProduced?[service] {
                kept.tags[service] = try keepingTag(of: service, container, tagged: tagged).tag
            }
        }
        try run.keptImages.produce(kept, by: run.producer(.keepImage))

        plannedDeploy().forEach(emit)
        let target = run.target.map(\.display) ?? "?"
        let outcome = DeployOutcome(
            result: .planned,
            summary: "dry run: would deploy \(run.services.joined(separator: ", ")) from \(run.revisionBefore.prefix(12)) to \(target); nothing was changed. "
                + (request.noRollback ? "On failure, nothing would be rolled back (--no-rollback)."
                    : "On failure, rollback.yml would restore \(previousTarget.display) with the kept image\(run.services.count > 1 ? "s" : "")."),
            advice: nil, exitCode: .success)
        emit(.finished(outcome))
        return outcome
    }

    /// The dry run's events from the facts it read: the deploy's steps, then the rollback's that a
    /// failure once the checkout moved runs (named as that run names them, "rollback: …"), all
    /// planned by the steps a real run executes.
    func plannedDeploy() -> [DeployEvent] {
        let deploy = planned(deploySteps, playbook: .deploy)
        // `--no-rollback`: a failure leaves the host as the failed step left it (`handleFailure`).
        if run.request?.noRollback == true {
            return deploy + [.notice("--no-rollback: if a step fails once the checkout has moved, \(rollbackPlaybook.kind.fileName) does not run; the host stays as the failed step left it (exit 5), and the failure names the command that goes back")]
        }
        let rollback = rollbackSteps(restartContainers: true)
        let beforeStop = rollbackSteps(restartContainers: false).map(\.name)
        let section = DeployEvent.notice(
            "if a step fails once the checkout has moved (the checks, say), \(rollbackPlaybook.kind.fileName) runs back to \(previousTarget.display): "
                + "\(rollback.map(\.name).joined(separator: ", ")) (without its lock step: the deploy holds the lock; before the containers are touched, only \(beforeStop.joined(separator: ", ")))")
        // The rollback's steps plan from its destination, as `rollBack` sets it.
        run.returningTo = previousTarget
        defer { run.returningTo = nil }
        return deploy + [section] + planned(rollback, playbook: .rollback, label: "rollback: ")
    }

    /// The dry run's events for `steps`, in order: each step is asked for the commands it would
    /// run (`DeployStep.plan`), the step a real run executes (`DeployStep.run`) beside it.
    func planned(_ steps: [PlaybookStep], playbook: Playbook.Kind, label: String = "") -> [DeployEvent] {
        steps.enumerated().flatMap { index, step in
            [DeployEvent.stepStarted(name: label + step.name, index: index + 1, total: steps.count)]
                + step.body.plan(step, playbook: playbook, in: self).map { .planned(step: label + step.name, command: $0.displayText, changes: $0.changesText) }
        }
    }

    /// What the origin's branch points at now (ls-remote, no fetch), or a local revision.
    private func remoteTarget(_ ref: String, timeout: Duration) async throws -> Target {
        let remote = try await runner.run(commands.lsRemote(ref, timeout: timeout))
        if let sha = remote.stdout.split(separator: "\n").first?.split(separator: "\t").first, remote.succeeded {
            return Target(branch: ref, revision: String(sha))
        }
        guard let local = try await commands.resolveLocal(ref, timeout: timeout).run(on: runner) else { throw DeployError.unknownRevision(ref) }
        return Target(branch: local.isBranch ? ref : nil, revision: local.revision)
    }
}

extension RemoteCommand {
    /// What it changes, or nil when it only reads.
    var changesText: String? {
        if case .changes(let text) = effect { return text }
        return nil
    }
}
