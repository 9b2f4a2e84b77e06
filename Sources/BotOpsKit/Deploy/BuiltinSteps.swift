import Checks
import Foundation
import HostCommands
import Remote

/// The built-in steps of the playbooks (see `BuiltinStep`).
extension Deployer {
    func runBuiltin(_ builtin: BuiltinStep, step: PlaybookStep, playbook: Playbook.Kind) async throws -> String? {
        switch builtin {
        case .lock: return try await takeLock()
        case .preflight: return try await preflight(timeout: step.timeout)
        case .baseline: return try await baseline(timeout: step.timeout)
        case .keepImage: return try await keepImages(timeout: step.timeout)
        case .checkout:
            return playbook == .deploy ? try await checkOutTarget(step: step) : try await checkOutRollbackTarget(timeout: step.timeout)
        case .restoreImage: return try await restoreImages(timeout: step.timeout)
        case .stop:
            try await noteImagesToStart(timeout: step.timeout)
            return try await stopServices(timeout: stopTimeout(step))
        case .waitHealthy: return try await waitHealthy(timeout: min(step.timeout, config.health.timeout + config.health.stableFor))
        case .checks: return try await verify(timeout: step.timeout)
        }
    }

    // MARK: lock

    private func takeLock() async throws -> String? {
        let request = run.request
        let emit = self.emit
        let held = try await acquireLock(.current(command: request?.command ?? "botops"), request?.lockWait, { holder in
            emit(.notice("waiting for the deploy lock, held by \(holder?.summary ?? "another deploy")"))
        }, { command in
            emit(.notice("waiting for a command of an earlier deploy that still runs on the host: \(command)"))
        })
        setHeldLock(held)
        try await afterLock()
        if let interrupted = held.interrupted {
            // Its stoppable steps' commands (a build, say) may still run: they would run beside ours.
            if let stopped = try? await hostRunner.run(stepRunner.orphansStopCommand()), !stopped.succeeded {
                emit(.warning("could not stop what the interrupted deploy left running: \(stopped.shownOutput)"))
            }
            emit(.notice("the previous deploy was interrupted without releasing the lock: \(interrupted.summary). Its step may have left the host half-changed; this run verifies before and after."))
            var record = AuditRecord(action: "interrupted", command: interrupted.command, result: "interrupted")
            record.localUser = interrupted.user
            record.machine = interrupted.machine
            record.to = interrupted.revision
            record.failure = "stopped during step \(interrupted.step); found by the next run"
            await appendAudit(record)
        }
        return "held by \(held.holder.user)@\(held.holder.machine)"
    }

    // MARK: preflight

    private func preflight(timeout: Duration) async throws -> String? {
        prefetchReadOnlyFacts()
        try await inspectHost(timeout: timeout, requireBranch: run.request?.ref == nil)
        return "\(commands.compose.program.joined(separator: " ")), checkout clean on \(run.branchBefore ?? "a detached revision") at \(run.revisionBefore.prefix(12))"
    }

    /// The baseline checks and the running containers are read-only: they start with the preflight
    /// and run beside it, instead of after it (the checks alone take about half a second).
    private func prefetchReadOnlyFacts() {
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
        run.database = database
        commands.compose.project = database.project
        async let composeConfig = runner.run(commands.composeConfig(config, timeout: timeout))
        try inspectCheckout(try await probe, requireBranch: requireBranch)
        await meanwhile()
        try resolveCompose(try await composeConfig, database: database)
    }

    /// The stop step's timeout for the services of this run (see `DeployCommands.stopTimeout`).
    func stopTimeout(_ step: PlaybookStep) -> Duration {
        DeployCommands.stopTimeout(playbook: step.timeout, graces: run.services.compactMap { run.project?.services[$0]?.stopGracePeriod })
    }

    /// The checkout is clean, on the configured branch when no `--ref` was given, with free disk;
    /// the ssh user and release records are read on the way.
    private func inspectCheckout(_ result: RemoteCommandResult, requireBranch: Bool) throws {
        guard result.result.termination != .exited(70) else {
            throw StepFailure(message: "no checkout at \(config.path): clone the app there first (or fix path: in botops.yml)", refusal: nil)
        }
        let sections = commands.marker.split(result.stdout)
        guard sections["end"] != nil else {
            throw StepFailure(message: "the preflight probe stopped early: \(result.shownOutput.prefix(300))", refusal: nil, audited: "the preflight probe stopped early")
        }
        run.sshUser = sections["user"]?.first
        warnAboutSeparateState(owner: sections["owner"]?.first)
        try commands.requireGit(GitRead.preflight, in: sections)
        let dirty = (sections["status"] ?? []).filter { !$0.isEmpty }
        if !dirty.isEmpty {
            throw DeployError.dirtyCheckout(path: config.path, files: dirty)
        }
        run.branchBefore = sections["branch"]?.first.flatMap { $0.isEmpty ? nil : $0 }
        run.revisionBefore = sections["head"]?.first ?? ""
        if requireBranch, run.branchBefore != config.branch {
            throw run.branchBefore.map { DeployError.wrongBranch(path: config.path, current: $0, target: config.branch) }
                ?? DeployError.detachedCheckout(path: config.path, revision: run.revisionBefore, target: config.branch)
        }
        for line in sections["disk"] ?? [] {
            let fields = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard fields.count == 2, let kilobytes = Int64(fields[0]) else { continue }
            let (free, overflow) = kilobytes.multipliedReportingOverflow(by: 1024)
            if !overflow, free < config.deploy.minFreeDiskBytes {
                throw DeployError.lowDisk(path: fields[1], freeBytes: free, neededBytes: config.deploy.minFreeDiskBytes)
            }
        }
        run.releases = try releases(in: sections)
    }

    /// The release records a probe read (its `releases` section).
    func releases(in sections: [String: [String]]) throws -> Releases {
        try Releases.parse((sections["releases"] ?? []).joined(separator: "\n"), file: config.deploy.stateDirectory.path + "/releases.json")
    }

    /// CI deploying as one user and the operator as another would get two locks and two
    /// histories in their own homes without knowing it.
    private func warnAboutSeparateState(owner: String?) {
        let state = config.deploy.stateDirectory
        guard let owner, let user = run.sshUser, owner != user, !state.isShared else { return }
        emit(.notice("the checkout \(config.path) belongs to \(owner), but botops connects as \(user): the lock, the audit and the releases live in \(user)'s \(state.path) (state_dir), so deploys as \(owner) and as \(user) do not see each other. Set state_dir in botops.yml to one directory both share, e.g. /var/lib/botops (group-writable; botops keeps it 2770, its files 660)."))
    }

    /// `compose config`: the services asked for exist, and the database keeps its data.
    private func resolveCompose(_ result: RemoteCommandResult, database: RunningDatabase) throws {
        guard let program = ComposeInvocation.program(for: config.compose.command, stderr: result.result.stderrText) else {
            throw DeployError.composeMissing
        }
        commands.compose.program = program
        guard result.succeeded else {
            // stderr names the problem (a missing file, a YAML error) without values from .env.
            throw DeployError.composeConfigFailed(ComposeInvocation.failureText(result.result.stderrText))
        }
        let project = try ComposeProject.parse(result.stdout)
        run.project = project
        let unknown = run.services.filter { project.services[$0] == nil }
        if !unknown.isEmpty {
            throw DeployError.unknownService(names: unknown, known: project.serviceNames)
        }
        try database.judge(project, file: config.compose.file, revision: run.revisionBefore)
        if let database = project.databaseService(container: config.database.container), run.services.contains(database.name) {
            throw StepFailure(message: "", refusal: .unknownService(names: [database.name + " (the database is never redeployed by botops)"], known: project.serviceNames.filter { $0 != database.name }))
        }
    }

    // MARK: baseline and checks

    private func runChecks(timeout: Duration, prefetched: Task<VerifyReport, Error>? = nil) async throws -> VerifyReport {
        let report: VerifyReport
        if let prefetched {
            report = try await prefetched.value
        } else {
            report = await (try Verification(config: config, timeout: timeout)).checks(on: runner)
        }
        if let lost = report.connectionLost { throw lost }
        return report
    }

    private func baseline(timeout: Duration) async throws -> String? {
        let report = try await runChecks(timeout: timeout, prefetched: run.prefetchedBaseline)
        let failing = report.results.filter { $0.status == .fail }
        run.baselineFailures = Set(failing.map(\.id))
        run.baselineSkipped = Set(report.results.filter { $0.status == .skip }.map(\.id))
        // Without the database most checks are skipped: nothing could tell a good release from a bad one.
        if let database = failing.first(where: { $0.id == .dbRunning }), run.request?.unverified != true {
            throw DeployError.databaseDownBeforeDeploy(database.message)
        }
        guard !failing.isEmpty else { return "all \(report.results.count) checks pass" }
        let strict = run.request?.strict == true
        emit(.notice("already failing before the deploy: " + failing.map { "\($0.id.rawValue) (\($0.message))" }.joined(separator: "; ")
            + (strict ? ". --strict: they will count against the release." : ". They do not count against this release; only new failures roll back.")))
        return "\(failing.count) check(s) already failing"
    }

    private func verify(timeout: Duration) async throws -> String? {
        let report = try await runChecks(timeout: timeout)
        let failing = report.results.filter { $0.status == .fail }
        // --strict judges the release; a rollback is judged against the state before the deploy.
        let strict = run.request?.strict == true && run.action == "deploy" && !run.rollingBack
        let counted = failing.filter { strict || !run.baselineFailures.contains($0.id) }
        guard counted.isEmpty else {
            // A check's message may quote the report script's output: the audit gets the ids alone.
            throw StepFailure(message: "check\(counted.count > 1 ? "s" : "") failed: " + counted.map { "\($0.id.rawValue): \($0.message)" }.joined(separator: "; "), refusal: nil,
                              audited: "check\(counted.count > 1 ? "s" : "") failed: " + counted.map(\.id.rawValue).joined(separator: ", "))
        }
        try await requireNewImages(timeout: timeout)
        let skipped = report.results.filter { $0.status == .skip }
        run.skippedAfter = skipped.map(\.id)
        run.failingAfter = failing.map(\.id)
        let known = failing.count
        let verdict = known == 0 ? "all \(report.results.count - skipped.count) checks pass" : "\(report.results.count - known - skipped.count) pass; \(known) failing as before the deploy"
        return verdict + (skipped.isEmpty ? "" : "; unverified: \(skipped.count) check\(skipped.count == 1 ? "" : "s") skipped")
    }

    /// Just before the stop, after the build (a deploy) or restore-image (a rollback): the image
    /// each service's name points at is the one `up` must start. Noted now, because the name may
    /// be moved again before the checks (another build on the host), and the container is judged
    /// against what `up` was given, not against whatever the name says later.
    private func noteImagesToStart(timeout: Duration) async throws {
        let names = run.services.compactMap { service in
            (run.running[service]?.imageName ?? run.project?.services[service]?.image).map { (service, $0) }
        }
        let idOf = try await imageIDs(Array(Set(names.map(\.1))).sorted(), timeout: timeout)
        for (service, name) in names { run.imagesToStart[service] = idOf[name] }
    }

    /// Each deployed container runs the image noted before the stop: `up` may restart an old
    /// container instead of creating one from that image, and a rollback that did so would say
    /// "rolled back" over the failed release.
    private func requireNewImages(timeout: Duration) async throws {
        let deployed = run.services.compactMap { service in run.deployed[service].map { (service, $0) } }
        guard !deployed.isEmpty else { return }
        let made = run.action == "deploy" && !run.rollingBack ? "built" : "restored"
        let unnoted = deployed.filter { run.imagesToStart[$0.0] == nil }.map(\.1.imageName)
        let now = unnoted.isEmpty ? [:] : try await imageIDs(Array(Set(unnoted)).sorted(), timeout: timeout)
        var expected: [String: String] = [:]
        for (service, container) in deployed { expected[service] = run.imagesToStart[service] ?? now[container.imageName] }
        let stale = deployed.filter { expected[$0.0] != $0.1.imageID }
        guard stale.isEmpty else {
            throw StepFailure(message: stale.map { service, container in
                "\(service)'s container runs image \(Releases.shortImageID(container.imageID)), not \(container.imageName) as \(made) for this revision (\(expected[service].map(Releases.shortImageID) ?? "gone")): an old container was started again"
            }.joined(separator: "; "), refusal: nil)
        }
    }

    // MARK: keep-image

    /// Each service's newest container and its image.
    func runningContainers(_ services: [String]) async throws -> [String: RunningContainer] {
        try await Self.containers(services, commands: commands, runner: runner)
    }

    static func containers(_ services: [String], commands: DeployCommands, runner: any CommandRunner) async throws -> [String: RunningContainer] {
        parseContainers(try await runner.run(commands.serviceContainers(services, timeout: .seconds(60))).stdout, services: services)
    }

    /// `serviceContainers`'s lines (`DeployCommands.containerFormat`), by service.
    static func parseContainers(_ stdout: String, services: [String]) -> [String: RunningContainer] {
        var containers: [String: RunningContainer] = [:]
        for line in stdout.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            if fields.count == 4, services.contains(fields[0]) {
                containers[fields[0]] = RunningContainer(container: fields[1], imageID: fields[2], imageName: fields[3])
            }
        }
        return containers
    }

    private func keepImages(timeout: Duration) async throws -> String? {
        if let prefetched = run.prefetchedContainers {
            run.running = try await prefetched.value
        } else {
            run.running = try await runningContainers(run.services)
        }
        let tagged = try await taggedImages(extra: run.services.compactMap { service in
            run.running[service].map { Releases.keptTag(image: $0.imageName, revision: run.revisionBefore) }
        }, timeout: timeout)
        findRunningRelease(tagged: tagged)
        var kept: [String] = []
        for service in run.services {
            guard let container = run.running[service] else {
                emit(.notice("\(service) has no container now: there is no image to keep; a rollback would rebuild it"))
                continue
            }
            // The running image may be a recorded release already (its tag still naming it): keep that.
            if let release = run.releases.release(of: service, runningImage: container.imageID, tagged: tagged), tagged[release.image] == container.imageID {
                run.kept[service] = release.image
                run.keptRelease[service] = release
                kept.append(release.image)
                continue
            }
            let revision = previousTarget.revision
            let tag = Releases.tagToKeep(image: container.imageName, revision: revision, imageID: container.imageID,
                                         taggedNow: tagged[Releases.keptTag(image: container.imageName, revision: revision)])
            if tag != Releases.keptTag(image: container.imageName, revision: revision) {
                emit(.notice("\(Releases.keptTag(image: container.imageName, revision: revision)) names another image than the one \(service) runs; it stays as it is, and \(service)'s image is kept as \(tag)"))
            }
            try await runChecked(commands.tag(container.imageID, as: tag, timeout: timeout), step: "keep-image")
            run.kept[service] = tag
            run.keptRelease[service] = Releases.Release(revision: revision, branch: previousTarget.branch, image: tag, imageID: container.imageID,
                                                        verified: run.baselineSkipped.isEmpty && run.baselineFailures.isEmpty ? nil : false, recordedAt: Int(Date().timeIntervalSince1970))
            kept.append(tag)
        }
        return kept.isEmpty ? "nothing running to keep" : "kept " + kept.joined(separator: ", ")
    }

    /// What each recorded tag of the run's services (and `extra`) names now: "TAG → IMAGE-ID".
    func taggedImages(extra: [String] = [], timeout: Duration) async throws -> [String: String] {
        let tags = Set(run.services.flatMap { run.releases.services[$0, default: []].map(\.image) } + extra).sorted()
        return try await imageIDs(tags, timeout: timeout)
    }

    /// The image each of `tags` names, for those that exist.
    func imageIDs(_ tags: [String], timeout: Duration) async throws -> [String: String] {
        guard !tags.isEmpty else { return [:] }
        let ids = try await runner.run(commands.imageIDs(tags, timeout: timeout))
        var idOf: [String: String] = [:]
        for line in ids.stdout.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            if words.count == 2 { idOf[words[0]] = words[1] }
        }
        return idOf
    }

    /// The containers normally run the checkout's HEAD. After an interrupted deploy the checkout
    /// may be ahead of them: if every service runs the image of the same recorded release, that
    /// release is what runs, and what a rollback returns to.
    private func findRunningRelease(tagged: [String: String]) {
        let matching = run.services.compactMap { service in
            run.running[service].flatMap { run.releases.release(of: service, runningImage: $0.imageID, tagged: tagged) }
        }
        let revisions = Set(matching.map(\.revision))
        guard matching.count == run.services.count, revisions.count == 1, let revision = revisions.first, revision != run.revisionBefore else { return }
        run.runningRevision = revision
        emit(.notice("the containers run release \(revision.prefix(12)), not the checkout's \(run.revisionBefore.prefix(12)) (an earlier deploy stopped half-way?): a rollback returns to \(revision.prefix(12))"))
    }

    // MARK: checkout

    /// Fetch, then fast-forward the branch (or check out `--ref`); a rewritten history is refused
    /// before anything moves. The fetch changes nothing running: an interruption stops it on the
    /// host, and the step ends there with the checkout where it was.
    private func checkOutTarget(step: PlaybookStep) async throws -> String? {
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
        if target.branch == nil, run.request?.ref == nil { target.branch = run.branchBefore }
        run.target = target
        if let held = currentHeldLock { held.record(step: step.name, revision: target.revision) }
        let hostFilesOnly = run.action == Self.hostFilesAction
        if target.revision == run.revisionBefore && target.branch == run.branchBefore {
            return hostFilesOnly ? "already at \(target.display)" : "already at \(target.display); rebuilding it"
        }
        try await judgeTarget(target.revision, timeout: step.timeout, composeToo: !hostFilesOnly)
        if hostFilesOnly { try await refuseImageChanges(to: target, timeout: step.timeout) }
        run.checkoutChanged = true
        try await runChecked(commands.checkout(target, timeout: step.timeout), step: step.name)
        if hostFilesOnly { try await runChecked(commands.restoreExecutableModes(timeout: step.timeout), step: step.name) }
        return "\(run.revisionBefore.prefix(12)) → \(target.display)"
    }

    /// Before the checkout moves: the target revision keeps the database's data where the running
    /// container has it, and tracks none of the files the host keeps outside git.
    /// `composeConfig`: the revision's `compose config`, when already under way.
    func judgeTarget(_ revision: String, timeout: Duration, composeToo: Bool, composeConfig: Task<RemoteCommandResult, Error>? = nil) async throws {
        async let tracked = runner.run(commands.trackedHostFiles(at: revision, envFile: config.compose.envFile, timeout: timeout))
        if composeToo, let database = run.database {
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
    private func refuseImageChanges(to target: Target, timeout: Duration) async throws {
        let diff = try await runChecked(commands.changedFiles(from: run.revisionBefore, to: target.revision, timeout: timeout), step: "checkout")
        let hostFiles = [config.checks.reportScript]
        let others = diff.stdout.split(separator: "\n").map(String.init).filter { file in
            !hostFiles.contains(file) && !file.hasPrefix("queries/") && !file.hasPrefix("crontab.d/")
        }
        if !others.isEmpty { throw DeployError.notHostFiles(others) }
    }

    private func checkOutRollbackTarget(timeout: Duration) async throws -> String? {
        guard let target = run.target else { return "nothing to check out" }
        run.checkoutChanged = true
        try await runChecked(commands.checkout(target, timeout: timeout), step: "checkout")
        return "back at \(target.display)"
    }

    // MARK: restore-image

    /// Points each service's image name at its kept image, so `up` starts it without a build;
    /// rebuilds a service whose kept image is gone, or whose tag no longer names the image
    /// recorded for it (running it would run other code while saying "kept image").
    private func restoreImages(timeout: Duration) async throws -> String? {
        guard let target = run.target else { return nil }
        var wanted: [String: (kept: String, name: String, imageID: String?)] = [:]
        for service in run.services {
            guard let name = run.running[service]?.imageName ?? run.project?.services[service]?.image else { continue }
            if let kept = run.kept[service] {
                wanted[service] = (kept, name, run.running[service]?.imageID)
            } else if let release = run.releases.release(of: service, revision: target.revision) {
                wanted[service] = (release.image, name, release.imageID)
            } else {
                wanted[service] = (Releases.keptTag(image: name, revision: target.revision), name, nil)
            }
        }
        let idOf = try await imageIDs(Set(wanted.values.map(\.kept)).sorted(), timeout: timeout)
        var rebuild: [String] = []
        var notes: [String] = []
        for service in run.services {
            guard let image = wanted[service], let id = idOf[image.kept] else {
                rebuild.append(service)
                continue
            }
            if let recorded = image.imageID, recorded != id {
                emit(.notice("\(image.kept) names image \(Releases.shortImageID(id)), not \(Releases.shortImageID(recorded)) recorded for \(service) at \(target.revision.prefix(12)): it is not used"))
                rebuild.append(service)
                continue
            }
            try await runChecked(commands.tag(id, as: image.name, timeout: timeout), step: "restore-image")
            notes.append("\(service) ← \(image.kept)")
        }
        if !rebuild.isEmpty {
            emit(.notice("no kept image for \(rebuild.joined(separator: ", ")) at \(target.revision.prefix(12)): rebuilding from the checkout"))
            try await runChecked(commands.build(rebuild, timeout: timeout), step: "restore-image")
            notes.append("rebuilt \(rebuild.joined(separator: ", "))")
        }
        return notes.joined(separator: ", ")
    }

    // MARK: stop

    /// Stops each service, timing it: a stop that used the whole grace period and ended in SIGKILL
    /// means the service ignores SIGTERM, which the operator should hear about.
    private func stopServices(timeout: Duration) async throws -> String? {
        run.containersTouched = true
        let containers = try await runningContainers(run.services)
        let clock = ContinuousClock()
        var notes: [String] = []
        for service in run.services {
            guard let container = containers[service] else { continue }
            let grace = run.project?.services[service]?.stopGracePeriod ?? .seconds(10)
            let start = clock.now
            run.stopStarted[service] = start
            try await runChecked(commands.stop(service, container: container.container, grace: grace, timeout: timeout), step: "stop")
            let took = clock.now - start
            let state = try await runner.run(commands.exitState(container.container, timeout: timeout))
            let exitCode = state.stdout.split(separator: " ").first.flatMap { Int($0) }
            if exitCode == 137, took >= grace - .milliseconds(500) {
                emit(.notice("\(service) ignored SIGTERM for \(seconds(took)) and was killed: its entrypoint does not forward signals (use the exec form, `init: true`, or a shorter stop_grace_period)"))
                notes.append("\(service) killed after \(seconds(took))")
            } else {
                notes.append("\(service) in \(seconds(took))")
            }
        }
        return notes.isEmpty ? "nothing running" : notes.joined(separator: ", ")
    }

    // MARK: wait-healthy

    private func waitHealthy(timeout: Duration, clock: ContinuousClock = ContinuousClock()) async throws -> String? {
        let start = clock.now
        var tracker = HealthTracker(stableFor: config.health.stableFor)
        let containers = try await runningContainers(run.services)
        let probe = commands.containerStates(run.services.compactMap { containers[$0]?.container }, timeout: .seconds(30))
        var last = ""
        while true {
            var states: [String: HealthTracker.Observation] = [:]
            if !containers.isEmpty {
                let result = try await runner.run(probe)
                for line in result.stdout.split(separator: "\n") {
                    guard let observation = HealthTracker.Observation.parse(String(line)) else {
                        throw StepFailure(message: "docker inspect printed what botops cannot read: \(result.shownOutput.prefix(300))", refusal: nil)
                    }
                    states[observation.id] = observation
                }
                // A container removed meanwhile is "No such object"; anything else is docker's own failure.
                if !result.succeeded, !result.result.stderrText.contains("No such") {
                    throw StepFailure(message: "docker inspect failed: \(result.shownOutput.prefix(300))", refusal: nil)
                }
            }
            var observations: [String: HealthTracker.Observation?] = [:]
            for service in run.services {
                observations[service] = .some(containers[service].flatMap { states[$0.container] })
            }
            let elapsed = clock.now - start
            switch tracker.observe(observations, elapsed: elapsed) {
            case .healthy:
                run.deployed = containers
                for (service, ready) in tracker.firstReady {
                    if let stopped = run.stopStarted[service] { run.downtime[service] = start + ready - stopped }
                }
                return "healthy and stable for \(seconds(config.health.stableFor))"
            case .failed(let service, let reason):
                try await showLogs(service, observations[service]??.id)
                throw StepFailure(message: "\(service) \(reason)", refusal: nil)
            case .waiting(let state):
                last = state
            }
            if elapsed >= timeout {
                for service in run.services { try await showLogs(service, observations[service]??.id) }
                throw StepFailure(message: "not healthy within \(seconds(timeout)): \(last)", refusal: nil)
            }
            try await clock.sleep(for: .milliseconds(250))
        }
    }

    private func showLogs(_ service: String, _ container: String?) async throws {
        guard let container else { return }
        let logs = try await runner.run(commands.logTail(container, lines: 20, timeout: .seconds(30)))
        emit(.output(step: "wait-healthy", line: "last lines of \(service)'s log:"))
        for line in logs.shownOutput.split(separator: "\n", omittingEmptySubsequences: false) {
            emit(.output(step: "wait-healthy", line: "  " + line))
        }
    }
}
