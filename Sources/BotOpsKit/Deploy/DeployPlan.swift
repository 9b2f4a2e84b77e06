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
        run.running = try await runningContainers(run.services)
        run.target = try await remoteTarget(request.ref ?? config.branch, timeout: probeTimeout)
        for service in run.services {
            if let container = run.running[service] {
                run.kept[service] = Releases.keptTag(image: container.imageName, revision: previousTarget.revision)
            }
        }

        for (index, step) in deployPlaybook.steps.enumerated() {
            emit(.stepStarted(name: step.name, index: index + 1, total: deployPlaybook.steps.count))
            for command in plannedCommands(step) {
                emit(.planned(step: step.name, command: command.displayText, changes: command.changesText))
            }
        }
        let target = run.target.map(\.display) ?? "?"
        let outcome = DeployOutcome(
            result: .planned,
            summary: "dry run: would deploy \(run.services.joined(separator: ", ")) from \(run.revisionBefore.prefix(12)) to \(target); nothing was changed. On failure, rollback.yml would restore \(previousTarget.display) with the kept image\(run.services.count > 1 ? "s" : "").",
            advice: nil, exitCode: .success)
        emit(.finished(outcome))
        return outcome
    }

    /// What the origin's branch points at now (ls-remote, no fetch), or a local revision.
    private func remoteTarget(_ ref: String, timeout: Duration) async throws -> Target {
        let remote = try await runner.run(commands.lsRemote(ref, timeout: timeout))
        if let sha = remote.stdout.split(separator: "\n").first?.split(separator: "\t").first, remote.succeeded {
            return Target(branch: ref, revision: String(sha))
        }
        let local = try await runner.run(commands.resolveLocal(ref, timeout: timeout))
        let words = local.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
        guard words.count == 2 else { throw DeployError.unknownRevision(ref) }
        return Target(branch: words[0] == "branch" ? ref : nil, revision: words[1])
    }

    /// The commands a step would run, built by the same functions a real run uses.
    private func plannedCommands(_ step: PlaybookStep) -> [RemoteCommand] {
        let timeout = step.timeout
        switch step.action {
        case .run(let template):
            return templateCommands(template, step: step)
        case .builtin(.lock):
            return [lock.acquireCommand(.current(command: run.request?.command ?? "botops"))]
        case .builtin(.preflight):
            return [commands.preflightProbe(timeout: timeout), commands.runningDatabase(config.database.container, timeout: timeout),
                    commands.composeConfig(config, timeout: timeout)]
        case .builtin(.baseline), .builtin(.checks):
            return [RemoteCommand("botops verify  # the nine checks", timeout: timeout, effect: .changes("runs the report script, which writes a report under logs/"))]
        case .builtin(.keepImage):
            return run.services.compactMap { service in
                run.running[service].map { commands.tag($0.imageID, as: run.kept[service] ?? "", timeout: timeout) }
            }
        case .builtin(.checkout):
            guard let target = run.target else { return [commands.fetch(timeout: timeout)] }
            return [commands.fetch(timeout: timeout), commands.resolve(target.branch ?? target.revision, timeout: timeout),
                    commands.composeConfig(at: target.revision, timeout: timeout),
                    commands.trackedHostFiles(at: target.revision, envFile: config.compose.envFile, timeout: timeout),
                    commands.checkout(target, timeout: timeout)]
        case .builtin(.restoreImage):
            return run.services.compactMap { service in
                guard let running = run.running[service], let kept = run.kept[service] else { return nil }
                return commands.tag(kept, as: running.imageName, timeout: timeout)
            }
        case .builtin(.stop):
            return run.services.compactMap { service in
                run.running[service].map { commands.stop(service, container: $0.container, grace: run.project?.services[service]?.stopGracePeriod ?? .seconds(10), timeout: stopTimeout(step)) }
            }
        case .builtin(.waitHealthy):
            // The containers `up` creates do not exist yet: named by their service here.
            return [commands.containerStates(run.services.map { "<new \($0) container>" }, timeout: timeout)]
        }
    }
}

extension RemoteCommand {
    /// What it changes, or nil when it only reads.
    var changesText: String? {
        if case .changes(let text) = effect { return text }
        return nil
    }
}
