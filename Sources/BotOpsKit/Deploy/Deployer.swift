import Checks
import Foundation
import HostCommands
import Remote

/// Runs `playbooks/deploy.yml` and `playbooks/rollback.yml` on one host connection: the deploy
/// guide's steps made safe (locked, verified, rolled back with the kept image on failure,
/// audited). One instance per run.
public final class Deployer: @unchecked Sendable {
    let config: BotOpsConfig
    let deployPlaybook: Playbook
    let rollbackPlaybook: Playbook
    /// The deploy's commands: stoppable or under the step lock, as the step is (see `StepRunner`).
    let runner: any CommandRunner
    let stepRunner: StepRunner
    /// The connection as it is, for the lock and what an interruption runs.
    let hostRunner: any CommandRunner
    let emit: @Sendable (DeployEvent) -> Void
    var commands: DeployCommands
    /// The run's state, filled in as steps go.
    var run = RunState(action: .deploy)
    /// How the lock is taken: through the command's session, which releases it on every way out.
    public var acquireLock: @Sendable (LockHolder, Duration?, @escaping @Sendable (LockHolder?) -> Void,
                                       @escaping @Sendable (String) -> Void) async throws -> HeldLock
    /// Judged again once the lock is held (a deploy that waited for the lock may now be inside a
    /// blackout window): throws the refusal.
    public var afterLock: @Sendable () async throws -> Void = {}
    private let mutex = NSLock()
    private var heldLock: HeldLock?
    private var currentStep = "start"
    private var interruptedBy: Int32?
    /// The interruption's audit line and stop of the step in flight, done at the signal.
    private var interruptWork: Task<Void, Never>?
    /// Taking the lock (perhaps waiting `--lock-wait` for it): an interruption cancels it.
    private var lockTask: Task<String?, Error>?

    public init(config: BotOpsConfig, deployPlaybook: Playbook, rollbackPlaybook: Playbook, runner: any CommandRunner,
                interruption: Interruption = Interruption(), emit: @escaping @Sendable (DeployEvent) -> Void) {
        self.config = config
        self.deployPlaybook = deployPlaybook
        self.rollbackPlaybook = rollbackPlaybook
        hostRunner = runner
        stepRunner = StepRunner(inner: runner, state: config.deploy.stateDirectory)
        self.runner = stepRunner
        self.emit = emit
        let program = config.compose.command == .v1 ? ["docker-compose"] : ["docker", "compose"]
        commands = DeployCommands(path: config.path, compose: ComposeInvocation(program: program, envFile: config.compose.envFile, file: config.compose.file),
                                  state: config.deploy.stateDirectory)
        let lock = DeployLock(config, runner: runner)
        acquireLock = { holder, wait, onWaiting, onStep in
            try await lock.acquire(as: holder, wait: wait, onWaiting: onWaiting, onStep: onStep)
        }
        interruption.onRequest(stillRunning: { [weak self] in self?.inFlight }) { [weak self] signal in
            self?.interrupt(by: signal)
        }
    }

    var lock: DeployLock {
        DeployLock(config, runner: hostRunner)
    }

    /// Everything one run learns and changes, for the steps, the rollback and the audit.
    struct RunState {
        let action: RunAction
        var request: DeployRequest?
        var services: [String] = []
        /// The command's own reading of the host before its steps (nil: the steps read it all).
        let reader: FactProducer?
        /// The checkout before the run, and the running stack: produced by the preflight (or the
        /// command's reading, which runs the preflight's probes itself).
        var checkoutBefore: Produced<CheckoutBefore>
        var sshUser: Produced<String>
        var stack: Produced<RunningStack>
        /// The recorded releases, read with the checkout (the record works on a copy).
        var releases: Produced<Releases>
        /// Read-only facts fetched while the preflight runs.
        var prefetchedBaseline: Task<VerifyReport, Error>?
        var prefetchedContainers: Task<[String: RunningContainer], Error>?
        /// Where the run takes the checkout, resolved once: by the deploy's checkout step (it
        /// fetches first), or before the steps by `botops rollback` (from `--to`) and the dry run
        /// (the origin's branch head). Never reassigned; a rollback's destination is `returningTo`.
        var resolvedTarget: Produced<Target>
        /// Per service: the container and image running before the run changed anything.
        var running: Produced<[String: RunningContainer]>
        /// The recorded release the containers run when it is not the checkout's HEAD (nil: they
        /// run HEAD), produced with `running` by keep-image's reading of the release tags.
        var runningRevision: Produced<String?>
        /// While rollback.yml runs: where it returns. Set and cleared by `rollBack(to:)` (and by
        /// the dry run while it plans the rollback), never by a step.
        var returningTo: Target?
        /// Where the steps running now take the checkout.
        var target: Target? { returningTo ?? resolvedTarget.ifProduced }

        /// `reading`: the command reads what runs and its target itself, before its steps.
        init(action: RunAction, reading: String? = nil) {
            self.action = action
            let reader = reading.map(FactProducer.command)
            self.reader = reader
            checkoutBefore = Produced(by: reader ?? .step(.preflight))
            sshUser = Produced(by: reader ?? .step(.preflight))
            stack = Produced(by: reader ?? .step(.preflight))
            releases = Produced(by: reader ?? .step(.preflight))
            resolvedTarget = Produced(by: reader ?? .step(.checkout))
            running = Produced(by: reader ?? .step(.keepImage))
            runningRevision = Produced(by: reader ?? .step(.keepImage))
            keptImages = Produced(by: reader ?? .step(.keepImage))
        }

        /// The dry run reads the kept tags itself; a run's keep-image step produces them.
        var keptImages: Produced<KeptImages>

        /// Who produces what `step` produces in this run: the command's reading when it reads the
        /// host itself, for code both share (the preflight's probes, the running containers).
        func producer(_ step: BuiltinStep) -> FactProducer {
            reader ?? .step(step)
        }
        var stopped = Produced<StoppedServices>(by: .step(.stop))
        var healthy = Produced<HealthyContainers>(by: .step(.waitHealthy))
        var baseline = Produced<Baseline>(by: .step(.baseline))
        var verdict = Produced<ChecksVerdict>(by: .step(.checks))
        var rollingBack: Bool { returningTo != nil }
        /// The rollback after a failed deploy is what restores the host: an interruption lets it
        /// run to its end. `botops rollback` stops at a step boundary, as a deploy does.
        var runsToItsEnd: Bool { rollingBack && action != .rollback }
        /// The checkout moved: from here on a failure rolls back.
        var checkoutChanged = false
        /// What the steps did to the containers so far.
        var progress = StepProgress()
        /// Containers were stopped or replaced.
        var containersTouched: Bool { progress.containersTouched }
        var steps: [AuditRecord.Step] = []

        /// What ran before the deploy: where a rollback returns.
        var previousTarget: Target {
            Target(branch: checkoutBefore.ifProduced?.branch, revision: (runningRevision.ifProduced ?? nil) ?? revisionBefore)
        }

        /// The checkout's revision before the run, for messages and the audit ("" before the preflight).
        var revisionBefore: String { checkoutBefore.ifProduced?.revision ?? "" }

        /// Why nothing vouches for the release the run ends with (nil: every check passed). A
        /// checks or wait-healthy step that failed under `on_failure: continue` produced nothing:
        /// the run went on, but the release is unverified, never last-known-good.
        var unverifiedReason: String? {
            guard let verdict = verdict.ifProduced else { return "unverified: step \(self.verdict.producer) failed (on_failure: continue)" }
            if !services.isEmpty, healthy.ifProduced == nil { return "unverified: step \(healthy.producer) failed (on_failure: continue)" }
            return verdict.unverifiedReason
        }

        /// The one command that puts back what ran before. The deploy moved its target branch, so
        /// naming that branch would run the new revision again: the revision is named instead,
        /// unless the checkout was on another branch, which still names what ran.
        var undoCommand: String {
            let before = previousTarget
            let unmoved = before.branch.flatMap { $0 != target?.branch && (runningRevision.ifProduced ?? nil) == nil ? $0 : nil }
            let to = unmoved ?? String(before.revision.prefix(12))
            if services.isEmpty { return "botops deploy --host-files --ref \(to)" }
            return "botops rollback --service \(services.joined(separator: ",")) --to \(to)"
        }
    }

    struct RunningContainer: Equatable {
        var container: String
        var imageID: String
        var imageName: String
    }

    struct StepFailure: Error, CustomStringConvertible {
        var message: String
        /// A refusal or usage error keeps its own exit code and never rolls back.
        var refusal: DeployError?
        /// The message without the command output it quotes (a check's last lines of the report
        /// script, say), for the audit; nil when `message` is botops' own words already.
        var audited: String?

        init(message: String, refusal: DeployError?, audited: String? = nil) {
            self.message = message
            self.refusal = refusal
            self.audited = audited
        }

        var description: String { refusal?.description ?? message }
        var auditText: String { refusal?.auditDescription ?? audited ?? message }
    }

    // MARK: - Interruption

    /// The first Ctrl-C or SIGTERM: the holder record and the `interrupted` audit line are written
    /// at once; a step that changes nothing running is stopped on the host; one that changes the
    /// running service runs to its end. The run loop then stops at the step boundary
    /// (`stopped()`). The rollback after a failed deploy runs to its end: it restores the host.
    func interrupt(by signal: Int32) {
        let (held, step, runsToItsEnd) = mutex.withLock {
            interruptedBy = interruptedBy ?? signal
            return (heldLock, currentStep, run.runsToItsEnd)
        }
        guard let held else {
            // Nothing taken yet: stop waiting for the lock.
            mutex.withLock { lockTask }?.cancel()
            return
        }
        let record = interruptedRecord(signal: signal, step: step)
        let stop = runsToItsEnd ? nil : stepRunner.stopCommand()
        let (hostRunner, state) = (hostRunner, config.deploy.stateDirectory)
        held.record(step: "\(step) (interrupted by \(signalName(signal)))")
        let work = Task {
            try? await AuditLog(state: state, runner: hostRunner).append(record)
            if let stop { _ = try? await hostRunner.run(stop) }
        }
        mutex.withLock { interruptWork = work }
    }

    private func interruptedRecord(signal: Int32, step: String) -> AuditRecord {
        let state = mutex.withLock { run }
        var record = auditRecord(result: "interrupted", of: state)
        record.failure = "\(signalName(signal)) during step \(step)"
        return record
    }

    /// What an exit at once would leave running on the host.
    var inFlight: String? {
        let (step, mode) = mutex.withLock { (currentStep, stepRunner.mode) }
        guard case .changing = mode else { return nil }
        return "step \(step) of the deploy (its command runs to its end there; the deploy lock stays taken until it does)"
    }

    private var stopReason: String? {
        let (signal, held) = mutex.withLock { (interruptedBy, heldLock) }
        if let signal { return "interrupted by \(signalName(signal))" }
        if held?.isLost == true { return "its deploy lock was broken (botops lock release --force) or its holder on the host ended" }
        return nil
    }

    /// Thrown at a step boundary once the run must stop.
    struct StopRequested: Error {}

    /// Thrown by the stoppable part of a changing step that an interruption stopped on the host
    /// (or that ended after it): nothing of the step has changed the host.
    struct PartStopped: Error {}

    /// Runs `body`, a part of a changing step that changes nothing running (the checkout's
    /// fetch), as a stoppable step: its commands are recorded, an interruption stops them on the
    /// host, and the step ends after it. The rest of the step then runs under the step lock again.
    func stoppablePart<T>(of step: PlaybookStep, _ body: () async throws -> T) async throws -> T {
        let label = "\(run.action) step \(step.name)"
        mutex.withLock { stepRunner.enter(stoppable: true, label: label) }
        defer { mutex.withLock { stepRunner.enter(stoppable: false, label: label) } }
        let value: T
        do {
            value = try await body()
        } catch where !run.runsToItsEnd && stopReason != nil && (error as? RemoteError)?.isUnreachable != true {
            throw PartStopped()
        }
        if !run.runsToItsEnd, stopReason != nil { throw PartStopped() }
        return value
    }

    /// The run stopped at a step boundary: a service left stopped is started again, then the
    /// host's state is reported with the one command that undoes the deploy.
    private func stopped() async -> DeployOutcome {
        await mutex.withLock { interruptWork }?.value
        // The step in flight when the stop came (the boundary is before the next one starts).
        let step = mutex.withLock { currentStep }
        let reason = stopReason ?? "stopped"
        let progress = mutex.withLock { run.progress }
        var state: [String] = []
        if progress.oldContainersLeftStopped {
            var restarted: [String] = []
            for service in run.services {
                guard let container = run.running.ifProduced?[service] else { continue }
                if (try? await hostRunner.run(commands.start(service, container: container.container, timeout: .seconds(60))))?.succeeded == true {
                    restarted.append(service)
                } else {
                    state.append("\(service)'s old container could not be started again: start it with docker start \(container.container)")
                }
            }
            if !restarted.isEmpty {
                emit(.notice("started the old container\(restarted.count > 1 ? "s" : "") of \(restarted.joined(separator: ", ")) again: the deploy stopped after stopping \(restarted.count > 1 ? "them" : "it")"))
                state.append("\(restarted.joined(separator: ", ")) run\(restarted.count > 1 ? "" : "s") the old container again (restarted)")
            }
        } else if progress.startEnded {
            state.append("\(run.services.joined(separator: ", ")) run\(run.services.count > 1 ? "" : "s") the new containers, not yet verified")
        }
        let undo = run.undoCommand
        let advice: String
        if run.checkoutChanged {
            state.insert("the checkout is at \(run.target?.display ?? "?") (was \(previousTarget.revision.prefix(12)))", at: 0)
            if run.action == .rollback, let target = run.target {
                advice = "To finish the rollback: botops rollback --service \(run.services.joined(separator: ",")) --to \(target.revision.prefix(12)); to undo it instead: \(undo)."
            } else {
                advice = "To undo it: \(undo); to finish it instead, deploy again."
            }
        } else {
            state.insert(run.containersTouched ? "the checkout did not move" : "nothing had changed on the host", at: 0)
            advice = "Deploy again when ready: \(run.request?.command ?? "botops deploy")"
        }
        let summary = "\(run.action) \(reason) during step \(step); it stopped after that step ended. The host now: \(state.joined(separator: "; "))."
        if stopReason?.hasPrefix("interrupted") == false {
            // A broken lock: nobody else recorded why this run stopped.
            var record = auditRecord(result: "interrupted")
            record.failure = summary
            await appendAudit(record)
        }
        var outcome = DeployOutcome(result: .interrupted, summary: summary, advice: advice, exitCode: .failed)
        outcome.interruptedBy = mutex.withLock { interruptedBy }
        emit(.finished(outcome))
        return outcome
    }

    /// The connection died mid-step: nothing more can run there, rollback included. Says what the
    /// step in flight may have left, and what to run once the host is reachable.
    private func lostConnection(at step: String, error: Error) -> DeployOutcome {
        let effect = run.checkoutChanged || run.containersTouched
            ? "the checkout may be at \(run.target?.display ?? "?") and the containers in any state the step \(step) left them"
            : (step == "keep-image" || step == "checkout" ? "the step \(step) may have finished there or not" : "nothing had changed on the host before step \(step)")
        let outcome = DeployOutcome(
            result: .failed,
            summary: "\(run.action) lost the connection to the host during step \(step): \(error). No rollback was attempted over a dead connection; \(effect). The step's command may still run there (the next deploy waits for it).",
            advice: "Once the host is reachable: botops verify; then \(run.undoCommand) to undo, or deploy again.",
            exitCode: .unreachable)
        emit(.finished(outcome))
        return outcome
    }

    /// Releases the lock if this run still holds it (every exit path calls this).
    public func releaseLock() async {
        let held = mutex.withLock {
            defer { heldLock = nil }
            return heldLock
        }
        await held?.release()
    }

    // MARK: - Deploy

    public func deploy(_ request: DeployRequest) async throws -> DeployOutcome {
        if request.dryRun { run = RunState(action: .deploy, reading: "the dry run's reading of the host") }
        run.request = request
        run.services = request.services.isEmpty ? config.services : request.services
        if request.dryRun { return try await plan(request) }
        emit(.started(action: "deploy", services: run.services, destination: runner.destination))
        return try await finishing { try await runDeploySteps(request) }
    }

    /// Reports the outcome of `body` and releases the lock, also when `body` throws.
    private func finishing(_ body: () async throws -> DeployOutcome) async throws -> DeployOutcome {
        do {
            let outcome = try await body()
            if outcome.result != .interrupted && outcome.exitCode != .unreachable { emit(.finished(outcome)) }
            await finish()
            return outcome
        } catch {
            await finish()
            throw error
        }
    }

    private func finish() async {
        if currentHeldLock != nil { _ = try? await hostRunner.run(stepRunner.cleanupCommand()) }
        await releaseLock()
    }

    private func runDeploySteps(_ request: DeployRequest) async throws -> DeployOutcome {
        try await runSteps(deploySteps, request: request) { try await succeed() }
    }

    /// The steps a deploy runs, in order; `--dry-run` plans the same list.
    var deploySteps: [PlaybookStep] { deployPlaybook.steps }

    /// The steps of `deploy --host-files`: no image is built and no container touched.
    var hostFilesSteps: [PlaybookStep] {
        let wanted: [BuiltinStep] = [.lock, .preflight, .baseline, .checkout, .checks]
        return deployPlaybook.steps.filter { step in wanted.contains { step.action == .builtin($0) } }
    }

    /// The steps of the rollback after a failed deploy, which holds the lock already. Without
    /// `restartContainers` only the checkout, the image names and the checks are put right.
    func rollbackSteps(restartContainers: Bool) -> [PlaybookStep] {
        let kept: [PlaybookStep.Action] = [.builtin(.checkout), .builtin(.restoreImage), .builtin(.checks)]
        return rollbackPlaybook.steps.filter { $0.action != .builtin(.lock) && (restartContainers || kept.contains($0.action)) }
    }

    /// Runs `steps` in order; a failure is handled (rolled back), an interruption, a broken lock
    /// or a lost connection stop the run at the step boundary.
    private func runSteps(_ steps: [PlaybookStep], request: DeployRequest, then succeed: () async throws -> DeployOutcome) async throws -> DeployOutcome {
        for (index, step) in steps.enumerated() {
            do {
                try await perform(step, index: index + 1, total: steps.count, playbook: .deploy)
            } catch is StopRequested {
                return await stopped()
            } catch let lost as HostLost {
                return lostConnection(at: step.name, error: lost.error)
            } catch let failure as StepFailure {
                return try await handleFailure(failure, at: step, request: request)
            }
        }
        // Recording the release (tags, releases.json, the audit) changes the host: it runs to its end.
        mutex.withLock {
            currentStep = "record"
            stepRunner.enter(stoppable: false, label: "\(run.action) step record")
        }
        return try await succeed()
    }

    private func handleFailure(_ failure: StepFailure, at step: PlaybookStep, request: DeployRequest) async throws -> DeployOutcome {
        if let refusal = failure.refusal {
            if currentHeldLock != nil {
                var record = auditRecord(result: "refused")
                record.failure = refusal.auditDescription
                await appendAudit(record)
            }
            throw refusal
        }
        let changed = run.checkoutChanged || run.containersTouched
        guard changed, step.onFailure == .rollback, !request.noRollback else {
            var record = auditRecord(result: "failed")
            record.failure = "\(step.name): \(failure.auditText)"
            await appendAudit(record)
            let why = request.noRollback ? "--no-rollback" : "on_failure: \(step.onFailure.rawValue)"
            let state = changed
                ? "The host is left changed, as the failed step left it (\(why)): \(whatChanged)."
                : "Nothing had changed on the host."
            return DeployOutcome(result: .failed, summary: "deploy failed at \(step.name): \(failure.message)\n\(state)",
                                 advice: changed ? "To go back: \(run.undoCommand)" : nil,
                                 exitCode: changed ? .needsHuman : .failed)
        }
        emit(.notice("\(step.name) failed: \(failure.message). Rolling back to \(previousTarget.display) with the kept image\(run.services.count > 1 ? "s" : "")."))
        let rollback = await rollBack(to: previousTarget, restartContainers: run.containersTouched)
        var record = auditRecord(result: rollback.failure == nil ? "rolled-back" : "rollback-failed")
        record.failure = "\(step.name): \(failure.auditText)"
        record.rollback = AuditRecord.Rollback(result: rollback.audited.result, to: previousTarget.revision,
                                               steps: rollback.steps, failure: rollback.audited.failure)
        await appendAudit(record)
        if let rollbackFailure = rollback.failure {
            return DeployOutcome(
                result: .rollbackFailed,
                summary: "deploy of \(run.services.joined(separator: ", ")) failed at \(step.name): \(failure.message)\nThe rollback to \(previousTarget.display) failed too: \(rollbackFailure)",
                advice: "The host needs a human. Look at: docker ps -a; docker logs \(run.services.first ?? "SERVICE"); git -C \(config.path) status; then botops verify.",
                exitCode: .needsHuman)
        }
        return DeployOutcome(
            result: .rolledBack,
            summary: "deploy of \(run.services.joined(separator: ", ")) failed at \(step.name): \(failure.message)\nRolled back to \(previousTarget.display) (kept image, no rebuild where it was kept); "
                + (rollback.unverified ?? "the checks pass: the host is healthy."),
            advice: rollback.unchecked ? Self.verifyAdvice : nil, exitCode: rollback.unchecked ? .needsHuman : .failed)
    }

    var previousTarget: Target { run.previousTarget }

    /// A rollback nothing verified: the operator checks the host before trusting it.
    static let verifyAdvice = "Nothing verified the host after the rollback: run botops verify."

    /// What this run changed on the host so far, for a run that stops with the host changed.
    var whatChanged: String {
        var parts: [String] = []
        if run.checkoutChanged { parts.append("the checkout moved from \(run.revisionBefore.prefix(12)) to \(run.target?.display ?? "?")") }
        if run.containersTouched { parts.append("the containers of \(run.services.joined(separator: ", ")) were stopped or replaced") }
        return parts.joined(separator: "; ")
    }

    /// The checks passed on the new revision: it becomes last-known-good (unless checks were
    /// skipped), its image is kept by revision, older kept images beyond `releases.keep` lose their
    /// tags. The release is live whatever happens here: a failure to record it is a warning, and
    /// the audit line is written on its own either way.
    private func succeed() async throws -> DeployOutcome {
        let target = run.target ?? previousTarget
        var recordFailure: String?
        do {
            try await recordRelease(target, verified: run.unverifiedReason == nil)
        } catch let error where !(error is CancellationError) {
            recordFailure = String(describing: error)
        }
        var entry = auditRecord(result: "success")
        entry.recordFailed = recordFailure == nil ? nil : true
        await appendAudit(entry)
        var summary = "deployed \(run.services.joined(separator: ", ")) at \(target.display)"
        if let recordFailure {
            emit(.warning("the release runs, but recording it in \(config.deploy.stateDirectory.path)/releases.json failed (\(recordFailure)): rollback --to previous does not know it. Free space on the host, then deploy the same revision again to record it."))
            summary += ": it runs, but it was not recorded as a release (see the warning)."
        } else if let unverified = run.unverifiedReason {
            summary += "; \(unverified), so it is not a last-known-good release: rollback --to previous passes over it."
        } else {
            summary += ": all checks pass; it is now the last-known-good release."
        }
        for service in run.services.sorted() {
            if let downtime = run.healthy.ifProduced?.downtime[service] { summary += "\n  \(service) downtime: \(seconds(downtime)) (old container stopped → new one healthy)" }
        }
        return DeployOutcome(result: .success, summary: summary, advice: nil, exitCode: .success)
    }

    /// Tags each deployed image by revision (never moving a tag that names another image) and
    /// writes releases.json with the image id of every service's release, in one round trip.
    private func recordRelease(_ target: Target, verified: Bool) async throws {
        let timeout = Duration.seconds(60)
        let now = Int(Date().timeIntervalSince1970)
        // wait-healthy failed under `on_failure: continue`: no container was seen healthy, none is recorded.
        let deployed = run.healthy.ifProduced?.containers ?? [:]
        let tagged = try await imageIDs(run.services.compactMap { service in
            deployed[service].map { Releases.keptTag(image: $0.imageName, revision: target.revision) }
        }, timeout: timeout)
        var releases = try run.releases.value()
        var untag: [String] = []
        var record: [RemoteCommand] = []
        for service in run.services {
            guard let container = deployed[service] else { continue }
            // The release that ran until now is the newest before this: it must never be the one
            // that drops out (it is what `rollback --to previous` returns to).
            if let before = run.keptImages.ifProduced?.releases[service], before.revision != target.revision {
                untag += releases.record(before, service: service, keep: config.deploy.keepReleases)
            }
            let tag = Releases.tagToKeep(image: container.imageName, revision: target.revision, imageID: container.imageID,
                                         taggedNow: tagged[Releases.keptTag(image: container.imageName, revision: target.revision)])
            record.append(commands.tag(container.imageID, as: tag, timeout: timeout))
            untag += releases.record(.init(revision: target.revision, branch: target.branch, image: tag, imageID: container.imageID,
                                               verified: verified ? nil : false, recordedAt: now),
                                         service: service, keep: config.deploy.keepReleases)
        }
        record.append(commands.writeReleases(releases.json, timeout: timeout))
        let stillUsed = Set(releases.services.values.flatMap { $0.map(\.image) })
        let removable = Array(Set(untag).subtracting(stillUsed)).sorted()
        if !removable.isEmpty {
            record.append(commands.untag(removable, timeout: timeout))
        }
        try await runChecked(.all(record), step: "record")
    }

    /// `deploy --host-files`: the host architecture's "update host files" procedure. Pull
    /// (fast-forward), give back executable bits as git records them, verify; no build, no
    /// container touched. A failing check moves the checkout back.
    public func deployHostFiles(_ request: DeployRequest) async throws -> DeployOutcome {
        run = RunState(action: .deployHostFiles)
        run.request = request
        run.services = []
        emit(.started(action: "deploy --host-files", services: [], destination: runner.destination))
        return try await finishing {
            try await runSteps(hostFilesSteps, request: request) {
                await appendAudit(auditRecord(result: "success"))
                return DeployOutcome(result: .success, summary: "host files at \((run.target ?? previousTarget).display): \(run.unverifiedReason ?? "all checks pass"); no image was built and no container touched.",
                                     advice: nil, exitCode: .success)
            }
        }
    }

    // MARK: - Rollback

    struct RollbackResult {
        var steps: [AuditRecord.Step] = []
        var failure: String?
        /// `failure` without command output, for the audit.
        var auditedFailure: String?
        /// `botops rollback` was interrupted: it stopped at a step boundary.
        var stopped = false
        /// Why nothing vouches for the host the rollback left (nil: its checks ran and pass).
        var unverified: String?
        /// The checks did not run to a verdict (rollback.yml has no checks step, or a step failed
        /// under `on_failure: continue`): nobody verified the host, so it needs a human.
        var unchecked = false

        /// The end of the rollback's summary: what its checks really verified.
        var verifiedText: String { unverified ?? "the checks pass" }
        /// Its result in the audit: "success" only when its checks ran to a verdict (`botops
        /// status` paints "success" as good); why it is unverified goes with it.
        var audited: (result: String, failure: String?) {
            if failure != nil { return ("failed", auditedFailure) }
            return unchecked ? ("unverified", unverified) : ("success", nil)
        }
    }

    /// Runs rollback.yml without its lock step (the lock is already held) and reports how it went.
    /// Without `restartContainers` (the deploy failed before touching them) only the checkout,
    /// the image names and the checks are put right: the old containers still run.
    func rollBack(to target: Target, restartContainers: Bool, numbering: (after: Int, of: Int)? = nil) async -> RollbackResult {
        let before = run.steps
        run.steps = []
        run.returningTo = target
        defer { run.returningTo = nil }
        // The rollback is judged by its own checks, never by the deploy's.
        run.verdict = Produced(by: .step(.checks))
        let steps = rollbackSteps(restartContainers: restartContainers)
        var result = RollbackResult()
        var continued: [String] = []
        for (index, step) in steps.enumerated() {
            do {
                try await perform(step, index: (numbering?.after ?? 0) + index + 1, total: numbering?.of ?? steps.count, playbook: .rollback, label: "rollback: ")
                if run.steps.last?.status == "failed" { continued.append(step.name) }
            } catch let failure as StepFailure {
                result.failure = "\(step.name): \(failure.message)"
                result.auditedFailure = "\(step.name): \(failure.auditText)"
                break
            } catch is StopRequested {
                result.stopped = true
                break
            } catch {
                result.failure = "\(step.name): \(String(describing: error))"
                result.auditedFailure = "\(step.name): \(type(of: error))"
                break
            }
        }
        result.steps = run.steps
        run.steps = before
        if result.failure == nil, !result.stopped {
            (result.unverified, result.unchecked) = rollbackVerdict(steps, continued: continued)
        }
        return result
    }

    /// What the rollback's checks verified: nothing without a checks step, nothing past a step
    /// that failed under `on_failure: continue`, else the checks' own verdict.
    private func rollbackVerdict(_ steps: [PlaybookStep], continued: [String]) -> (unverified: String?, unchecked: Bool) {
        guard steps.contains(where: { $0.action == .builtin(.checks) }) else {
            return ("checks not run: \(rollbackPlaybook.kind.fileName) has no checks step", true)
        }
        if !continued.isEmpty {
            return ("unverified: step\(continued.count == 1 ? "" : "s") \(continued.joined(separator: ", ")) failed (on_failure: continue)", true)
        }
        return (run.verdict.ifProduced?.unverifiedReason, false)
    }

    /// `botops rollback`: lock, then rollback.yml to `request.to` (or the previous good release).
    public func rollback(_ request: RollbackRequest) async throws -> DeployOutcome {
        run = RunState(action: .rollback, reading: "botops rollback's reading of the host")
        run.services = request.services.isEmpty ? config.services : request.services
        run.request = DeployRequest(services: run.services, ref: request.to, command: request.command)
        run.request?.lockWait = request.lockWait
        emit(.started(action: "rollback", services: run.services, destination: runner.destination))
        return try await finishing {
            let total = rollbackPlaybook.steps.count
            do {
                if let lockStep = rollbackPlaybook.steps.first(where: { $0.action == .builtin(.lock) }) {
                    try await perform(lockStep, index: 1, total: total, playbook: .rollback)
                }
            } catch is StopRequested {
                return await stopped()
            }
            do {
                // While compose reads the current checkout: the running containers, the target and
                // compose's reading of the target's file; judged after the current checkout, as before.
                var target: Result<Target, Error> = .failure(CancellationError())
                var targetConfig: Task<RemoteCommandResult, Error>?
                defer { targetConfig?.cancel() }
                try await inspectHost(timeout: .seconds(120), requireBranch: false) {
                    do {
                        try run.running.produce(try await runningContainers(run.services), by: run.producer(.keepImage))
                        let resolved = try await rollbackTarget(request.to)
                        if resolved.revision != (try run.checkoutBefore.value()).revision {
                            let command = commands.composeConfig(at: resolved.revision, config, timeout: .seconds(120))
                            targetConfig = Task { [runner] in try await runner.run(command) }
                        }
                        target = .success(resolved)
                    } catch {
                        target = .failure(error)
                    }
                }
                let resolved = try target.get()
                try run.resolvedTarget.produce(resolved, by: run.producer(.checkout))
                if resolved.revision != (try run.checkoutBefore.value()).revision {
                    try await judgeTarget(resolved.revision, timeout: .seconds(120), composeToo: true, composeConfig: targetConfig)
                }
            } catch let failure as StepFailure {
                throw failure.refusal ?? DeployError.hostCommandFailed(step: "rollback", detail: failure.message)
            }
            let target = try run.resolvedTarget.value()
            let result = await rollBack(to: target, restartContainers: true, numbering: (after: 1, of: total))
            run.steps += result.steps
            // Interrupted: the audit line was written at the signal.
            if result.stopped { return await stopped() }
            var record = auditRecord(result: result.audited.result)
            record.failure = result.audited.failure
            await appendAudit(record)
            if let failure = result.failure {
                let changed = run.checkoutChanged || run.containersTouched
                return DeployOutcome(result: .failed,
                                     summary: "rollback to \(target.display) failed: \(failure)" + (changed ? "\nThe host is left changed: \(whatChanged)." : "\nNothing had changed on the host."),
                                     advice: "Look at: docker ps -a; docker logs \(run.services.first ?? "SERVICE"); then botops verify.",
                                     exitCode: changed ? .needsHuman : .failed)
            }
            return DeployOutcome(result: .success, summary: "rolled back \(run.services.joined(separator: ", ")) to \(target.display): \(result.verifiedText).",
                                 advice: result.unchecked ? Self.verifyAdvice : nil, exitCode: result.unchecked ? .needsHuman : .success)
        }
    }

    /// `--to`: "previous" (or nothing) is, for every named service, the last verified release
    /// before the one its container runs (judged by image); a local branch goes back to that
    /// branch as it is here (no fetch: a rollback never pulls new code); a revision moves the
    /// current branch there.
    private func rollbackTarget(_ to: String?) async throws -> Target {
        guard let to, to != "previous" else {
            let previous = try await previousRelease()
            return Target(branch: try previous.branch ?? run.checkoutBefore.value().branch, revision: previous.revision)
        }
        guard let local = try await commands.resolveLocal(to, timeout: .seconds(30)).run(on: runner) else {
            throw StepFailure(message: "", refusal: .unknownRevision(to))
        }
        return Target(branch: local.isBranch ? to : try run.checkoutBefore.value().branch, revision: local.revision)
    }

    /// For every service of the run, the last verified release before the one its container runs.
    private func previousRelease() async throws -> Releases.Release {
        let tagged = try await taggedImages(timeout: .seconds(60))
        return try run.releases.value().previous(of: run.services, running: run.running.value().mapValues(\.imageID),
                                         checkout: try run.checkoutBefore.value().revision, tagged: tagged)
    }

    /// A deployer that only reads the host (no playbook, no events): the gate's preflight and
    /// `rollback --plan cron`'s "previous", which must not depend on playbooks they do not run.
    public static func readOnly(config: BotOpsConfig, runner: any CommandRunner) -> Deployer {
        Deployer(config: config, deployPlaybook: Playbook(kind: .deploy, file: "", steps: [], origin: .file("")),
                 rollbackPlaybook: Playbook(kind: .rollback, file: "", steps: [], origin: .file("")), runner: runner, emit: { _ in })
    }

    /// The release `rollback --to previous` would return `services` to, judged the same way but
    /// read without the lock and changing nothing: `rollback --plan cron` installs its crontab.d.
    public func previousRelease(of services: [String]) async throws -> Releases.Release {
        run = RunState(action: .rollback, reading: "the reading of rollback --to previous")
        run.services = services
        async let containers = runningContainers(services)
        let probe = try await runner.run(commands.releasesProbe(timeout: .seconds(60)))
        guard case .success(let reading) = CheckoutReading.parse(probe.stdout, termination: probe.result.termination, marker: commands.marker) else {
            throw DeployError.hostCommandFailed(step: "rollback", detail: "reading \(config.path) and \(releasesFile) failed: \(probe.shownOutput.prefix(300))")
        }
        try reading.requireGit([.head], path: config.path)
        try run.checkoutBefore.produce(CheckoutBefore(branch: nil, revision: reading.head), by: run.producer(.preflight))
        try run.releases.produce(try reading.releases(file: releasesFile), by: run.producer(.preflight))
        try run.running.produce(try await containers, by: run.producer(.keepImage))
        return try await previousRelease()
    }

    // MARK: - Steps

    /// Runs one step with its timeout and retries, reporting it; a failure is thrown as `StepFailure`.
    func perform(_ step: PlaybookStep, index: Int, total: Int, playbook: Playbook.Kind, label: String = "") async throws {
        if !run.runsToItsEnd, stopReason != nil { throw StopRequested() }
        let stoppable = isStoppable(step)
        mutex.withLock {
            currentStep = label + step.name
            if step.action != .builtin(.lock) { stepRunner.enter(stoppable: stoppable, label: "\(run.action) step \(label + step.name)") }
            run.progress.started(step)
        }
        defer { mutex.withLock { run.progress.ended(step) } }
        emit(.stepStarted(name: label + step.name, index: index, total: total))
        if let held = currentHeldLock { held.record(step: label + step.name, revision: run.target?.revision) }
        let clock = ContinuousClock()
        let start = clock.now
        var attempt = 0
        while true {
            do {
                let note: String?
                if step.action == .builtin(.lock) {
                    let task = Task { try await execute(step, playbook: playbook) }
                    mutex.withLock { lockTask = task }
                    if stopReason != nil { task.cancel() }
                    note = try await task.value
                } else {
                    note = try await execute(step, playbook: playbook)
                }
                let duration = clock.now - start
                run.steps.append(.init(name: label + step.name, status: "ok", durationMS: wholeMilliseconds(duration)))
                emit(.stepFinished(name: label + step.name, status: .ok, duration: duration, message: note))
                return
            } catch {
                if let remote = error as? RemoteError, remote.isUnreachable { throw HostLost(error: remote) }
                let duration = clock.now - start
                if !run.runsToItsEnd, stopReason != nil, stoppable || step.action == .builtin(.lock) || error is PartStopped {
                    // Stopped on the host by the interruption: not a failure of the release.
                    run.steps.append(.init(name: label + step.name, status: "stopped", durationMS: wholeMilliseconds(duration)))
                    emit(.stepFinished(name: label + step.name, status: .failed, duration: duration, message: "stopped: \(stopReason ?? "")"))
                    throw StopRequested()
                }
                let failure = asStepFailure(error)
                if failure.refusal == nil, attempt < step.retries {
                    attempt += 1
                    emit(.notice("\(step.name) failed (\(failure.message)); retry \(attempt) of \(step.retries)"))
                    continue
                }
                run.steps.append(.init(name: label + step.name, status: "failed", durationMS: wholeMilliseconds(duration)))
                emit(.stepFinished(name: label + step.name, status: .failed, duration: duration, message: failure.message))
                if case .continue = step.onFailure, failure.refusal == nil { return }
                throw failure
            }
        }
    }

    /// The connection to the host is gone.
    struct HostLost: Error, CustomStringConvertible, ExitCodeProviding {
        var error: RemoteError
        var description: String { error.description }
        var exitCode: BotOpsExitCode { .unreachable }
    }

    /// A step that changes nothing running: an interruption stops it on the host. keep-image,
    /// checkout, stop, restore-image, `up` and undeclared `run:` steps run to their end.
    func isStoppable(_ step: PlaybookStep) -> Bool {
        step.effect == .nothingRunning
    }

    private func asStepFailure(_ error: Error) -> StepFailure {
        switch error {
        case let failure as StepFailure: return failure
        case let refusal as DeployError where refusal.exitCode == .refused || refusal.exitCode == .usage:
            return StepFailure(message: refusal.description, refusal: refusal)
        case let refusal as HostStateError where refusal.exitCode == .refused || refusal.exitCode == .usage:
            return StepFailure(message: refusal.description, refusal: .hostState(refusal))
        case let refusal as any Error & ExitCodeProviding where refusal.exitCode == .refused:
            return StepFailure(message: String(describing: refusal), refusal: .refused(String(describing: refusal)))
        case let remote as RemoteError where remote.isUnreachable:
            // The host is gone: nothing more can run there. Let the caller exit 3.
            return StepFailure(message: remote.description, refusal: nil)
        default: return StepFailure(message: String(describing: error), refusal: nil)
        }
    }

    /// One step's work; returns a note for the step's summary line.
    private func execute(_ step: PlaybookStep, playbook: Playbook.Kind) async throws -> String? {
        try await step.body.run(step, playbook: playbook, in: self)
    }

    /// Runs `command`, streaming its output under the step; a non-zero exit is a step failure.
    @discardableResult
    func runChecked(_ command: RemoteCommand, step: String) async throws -> RemoteCommandResult {
        let emit = self.emit
        let result = try await runner.run(command) { _, line in emit(.output(step: step, line: line)) }
        guard result.succeeded else {
            throw StepFailure(message: "`\(command.displayText.prefix(200))` ended with \(result.result.termination)", refusal: nil)
        }
        return result
    }

    // MARK: - Audit

    func auditRecord(result: String) -> AuditRecord {
        auditRecord(result: result, of: run)
    }

    func auditRecord(result: String, of state: RunState) -> AuditRecord {
        var record = AuditRecord(action: state.action.rawValue, command: state.request?.command ?? "botops", result: result, services: state.services)
        record.sshUser = state.sshUser.ifProduced
        record.branch = state.target?.branch
        record.from = state.revisionBefore.isEmpty ? nil : state.previousTarget.revision
        record.to = state.target?.revision
        record.steps = state.steps
        let downtime = state.healthy.ifProduced?.downtime ?? [:]
        record.downtimeMS = downtime.isEmpty ? nil : downtime.mapValues(wholeMilliseconds)
        let baselineFailures = state.baseline.ifProduced?.failures ?? []
        record.baselineFailures = baselineFailures.isEmpty ? nil : baselineFailures.map(\.rawValue).sorted()
        return record
    }

    var audit: AuditLog {
        AuditLog(state: config.deploy.stateDirectory, runner: runner)
    }

    func appendAudit(_ record: AuditRecord) async {
        do {
            try await audit.append(record)
        } catch {
            emit(.notice("could not append to the audit log: \(error)"))
        }
    }

    func setHeldLock(_ held: HeldLock) {
        mutex.withLock { heldLock = held }
    }

    var currentHeldLock: HeldLock? {
        mutex.withLock { heldLock }
    }
}
