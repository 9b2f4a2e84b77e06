import Foundation
import HostCommands
import Remote

/// `builtin: checkout`: moves the checkout to the target revision (deploy: fetch, then a
/// fast-forward only on a branch; rollback: back to the revision that ran).
struct CheckoutStep: DeployStep {
    func run(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) async throws -> String? {
        playbook == .deploy ? try await deployer.checkOutTarget(step: step) : try await deployer.checkOutRollbackTarget(timeout: step.timeout)
    }

    func plan(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) -> [RemoteCommand] {
        let (commands, timeout) = (deployer.commands, step.timeout)
        if playbook == .rollback { return deployer.run.target.map { [commands.checkout($0, timeout: timeout)] } ?? [] }
        guard let target = deployer.run.target else { return [commands.fetch(timeout: timeout)] }
        return [commands.fetch(timeout: timeout), commands.resolve(target.branch ?? target.revision, timeout: timeout),
                commands.composeConfig(at: target.revision, timeout: timeout),
                commands.trackedHostFiles(at: target.revision, envFile: deployer.config.compose.envFile, timeout: timeout),
                commands.checkout(target, timeout: timeout)]
    }
}

extension Deployer {
    /// Fetch, then fast-forward the branch (or check out `--ref`); a rewritten history is refused
    /// before anything moves. The fetch changes nothing running: an interruption stops it on the
    /// host, and the step ends there with the checkout where it was.
    fileprivate func checkOutTarget(step: PlaybookStep) async throws -> String? {
        try await stoppablePart(of: step) { try await runChecked(commands.fetch(timeout: step.timeout), step: step.name) }
        let ref = run.request?.ref ?? config.branch
        let resolved = try await runner.run(commands.resolve(ref, timeout: step.timeout))
        var target: Target?
        for line in resolved.stdout.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard words.count == 2 else { continue }
            switch words[0] {
            case "branch": target = Target(branch: ref, revision: words[1])
            case "revision": target = Target(branch: nil, revision: words[1])
            case "diverged": throw DeployError.nonFastForward(branch: ref, local: words[1], remote: target?.revision ?? "?")
            case "ahead": throw DeployError.localCommits(branch: ref, local: words[1], remote: target?.revision ?? "?")
            default: break
            }
        }
        guard var target else { throw DeployError.unknownRevision(ref) }
        // A revision given while on a branch keeps nothing but the commit: the checkout detaches.
        let before = try run.checkoutBefore.value()
        if target.branch == nil, run.request?.ref == nil { target.branch = before.branch }
        try run.resolvedTarget.produce(target, by: .step(.checkout))
        if let held = currentHeldLock { held.record(step: step.name, revision: target.revision) }
        let hostFilesOnly = run.action == .deployHostFiles
        if target.revision == before.revision && target.branch == before.branch {
            return hostFilesOnly ? "already at \(target.display)" : "already at \(target.display); rebuilding it"
        }
        try await judgeTarget(target.revision, timeout: step.timeout, composeToo: !hostFilesOnly)
        if hostFilesOnly { try await refuseImageChanges(to: target, timeout: step.timeout) }
        run.checkoutChanged = true
        try await runChecked(commands.checkout(target, timeout: step.timeout), step: step.name)
        if hostFilesOnly { try await runChecked(commands.restoreExecutableModes(timeout: step.timeout), step: step.name) }
        return "\(before.revision.prefix(12)) → \(target.display)"
    }

    /// Before the checkout moves: the target revision keeps the database's data where the running
    /// container has it, and tracks none of the files the host keeps outside git.
    /// `composeConfig`: the revision's `compose config`, when already under way.
    func judgeTarget(_ revision: String, timeout: Duration, composeToo: Bool, composeConfig: Task<RemoteCommandResult, Error>? = nil) async throws {
        async let tracked = runner.run(commands.trackedHostFiles(at: revision, envFile: config.compose.envFile, timeout: timeout))
        if composeToo {
            let database = try run.stack.value().database
            let result = if let composeConfig { try await composeConfig.value } else { try await runner.run(commands.composeConfig(at: revision, timeout: timeout)) }
            guard result.result.termination != .exited(71) else {
                throw DeployError.databaseDataMoved(container: database.container, file: config.compose.file, revision: revision, running: database.data, target: nil)
            }
            guard result.succeeded else {
                throw DeployError.composeConfigFailed("at \(revision.prefix(12)): " + ComposeInvocation.failureText(result.result.stderrText))
            }
            try database.judge(try ComposeProject.parse(result.stdout), file: config.compose.file, revision: revision)
        }
        let files = try await tracked
        guard files.succeeded else {
            throw StepFailure(message: "cannot list the files \(revision.prefix(12)) tracks: \(files.shownOutput.prefix(300))", refusal: nil)
        }
        let overwritten = files.stdout.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        if !overwritten.isEmpty { throw DeployError.tracksHostFiles(revision: revision, files: overwritten) }
    }

    /// `--host-files` deploys only what the host runs itself (the report script, the queries, the
    /// cron entries): a change to anything an image is built from needs `--service`.
    fileprivate func refuseImageChanges(to target: Target, timeout: Duration) async throws {
        let diff = try await runChecked(commands.changedFiles(from: try run.checkoutBefore.value().revision, to: target.revision, timeout: timeout), step: "checkout")
        let hostFiles = [config.checks.reportScript]
        let others = diff.stdout.split(separator: "\n").map(String.init).filter { file in
            !hostFiles.contains(file) && !file.hasPrefix("queries/") && !file.hasPrefix("crontab.d/")
        }
        if !others.isEmpty { throw DeployError.notHostFiles(others) }
    }

    fileprivate func checkOutRollbackTarget(timeout: Duration) async throws -> String? {
        guard let target = run.target else { return "nothing to check out" }
        run.checkoutChanged = true
        try await runChecked(commands.checkout(target, timeout: timeout), step: "checkout")
        return "back at \(target.display)"
    }
}
