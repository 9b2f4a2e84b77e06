import Checks
import Cron
import Foundation
import HostCommands
import Remote

/// `botops recover`: the runbook's emergency recovery as one command that diagnoses first,
/// repairs what it can without losing anything, and names what still needs a human. It never
/// moves HEAD, removes a volume, drops a table, empties the crontab or discards a local change
/// unsaved; it never restores the database on its own.
public struct Recoverer: Sendable {
    public struct Options: Sendable {
        public var dryRun: Bool
        public var yes: Bool
        public var command: String

        public init(dryRun: Bool, yes: Bool, command: String) {
            self.dryRun = dryRun
            self.yes = yes
            self.command = command
        }
    }

    public let config: BotOpsConfig
    public let runner: any CommandRunner
    /// The operator's crontab.d: installed only when the host's HEAD holds none.
    public private(set) var entries: [CronEntry]
    /// Where the installed entries come from, for the cron step's message.
    var entriesSource = "the local crontab.d"
    /// Why crontab.d at the host's HEAD could not be read: the cron step fails with it, and the
    /// other steps (the database's among them) still run.
    var entriesProblem: String?
    public let playbook: RecoverPlaybook
    /// Told about the held lock, so the command lifecycle releases it on every way out.
    /// Takes the deploy lock through the command's session, which releases it on every way out.
    public let acquireLock: @Sendable (LockHolder) async throws -> HeldLock
    /// Each step's line as it finishes (text output streams; JSON prints the report at the end).
    public let progress: @Sendable (String) -> Void

    public init(config: BotOpsConfig, runner: any CommandRunner, entries: [CronEntry], playbook: RecoverPlaybook,
                acquireLock: @escaping @Sendable (LockHolder) async throws -> HeldLock, progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.config = config
        self.runner = runner
        self.entries = entries
        self.playbook = playbook
        self.acquireLock = acquireLock
        self.progress = progress
    }

    var state: StateDirectory { config.deploy.stateDirectory }
    var commands: DeployCommands {
        DeployCommands.readOnly(config)
    }

    /// What diagnose found, and the repairs each step would make.
    struct Diagnosis {
        var status: HostStatus
        var facts: RecoverFacts
        var checks: VerifyReport
        /// The stack's compose project (the db container's label): every compose call names it, or
        /// compose would derive another from the checkout's directory and start a second, empty stack.
        var project: String?
        /// The compose service declaring the database container (read from `compose config` when
        /// the container is gone; its labels went with it).
        var databaseService: String?
        var broken: [String] = []
        var remaining: [RecoverReport.Remaining] = []
        /// Set when the database's data is gone (volume or tables) or its volume could not be
        /// judged: the database step stops with it, before touching anything of the database.
        var dataStop: RecoverReport.Remaining?
        var dataLost: Bool { dataStop != nil }

        var databaseStartedAt: Int? {
            status.database.uptimeSeconds.map { status.readAt - $0 }
        }

        /// Services to start (not running) or restart (started before the database).
        var servicesToStart: [HostStatus.Container] {
            let dbStart = databaseStartedAt
            return status.services.filter { service in
                guard service.state == "running", let uptime = service.uptimeSeconds else { return true }
                return dbStart.map { status.readAt - uptime < $0 } ?? false
            }
        }

        var databaseNeedsStart: Bool { status.database.state != "running" }
        /// Nothing is written to a crontab that could not be read.
        var cronNeedsInstall: Bool { facts.crontabUnreadable == nil && (crontabEmpty || status.cron.contains { $0.installed != "installed" }) }
        var crontabEmpty: Bool { facts.crontabUnreadable == nil && facts.crontabLines == 0 }
        var filesNeedRestore: Bool { !facts.trackedChanges.isEmpty || !facts.blocking.isEmpty }
        var modesNeedRepair: Bool { !facts.lostModes.isEmpty || !facts.logsPresent }
    }

    /// Recovers with crontab.d as committed at the host's HEAD (the schedule of the code the host
    /// runs), or the operator's crontab.d when HEAD has none.
    public func run(_ options: Options) async throws -> RecoverReport {
        var recoverer = self
        let host = HostCrontabEntries(config: config)
        let printed = try await runner.run(host.command).stdout
        do {
            if let committed = try host.parse(printed) {
                recoverer.entries = committed.entries
                recoverer.entriesSource = "crontab.d at the host's HEAD (\(committed.revision.prefix(12)))"
            } else {
                recoverer.entriesSource = "the local crontab.d (the host's HEAD has none)"
            }
        } catch {
            recoverer.entriesProblem = "crontab.d at the host's HEAD cannot be installed: \(error)"
        }
        return try await recoverer.recover(options)
    }

    func recover(_ options: Options) async throws -> RecoverReport {
        let startedAt = formatUTC(Int(Date().timeIntervalSince1970))
        let lock = DeployLock(state: state, staleAfter: config.deploy.lockStaleAfter, runner: runner)
        var refusal: RecoverReport.Remaining?
        var interrupted: LockHolder?
        switch try await lock.status() {
        case .held(let holder, let stale):
            let who = holder?.summary ?? "an unknown holder"
            refusal = RecoverReport.Remaining(
                problem: "the deploy lock is held by \(who)" + (stale ? " (stale: no progress for \(holder?.idleSeconds ?? 0) s)" : "") + "; recover only diagnosed",
                next: stale ? "botops lock release --force --reason 'stale deploy, recovering the host'" : "wait for it to finish (botops lock status), then botops recover --yes")
        case .free(let previous):
            interrupted = previous
        }
        var held: HeldLock?
        if refusal == nil, options.yes, !options.dryRun {
            held = try await acquireLock(.current(command: options.command, step: "diagnose"))
        }

        let clock = ContinuousClock()
        let start = clock.now
        var diagnosis = try await diagnose()
        if let interrupted {
            diagnosis.broken.insert(InterruptedCommand(interrupted, config: config).broken(interrupted), at: 0)
        }
        let plan = planned(diagnosis)
        var report = RecoverReport(destination: runner.destination, startedAt: startedAt, result: "planned", broken: diagnosis.broken, plan: plan,
                                   steps: [RecoverReport.Step(name: "diagnose", status: diagnosis.broken.isEmpty ? "nothing-to-do" : "done",
                                                              message: diagnosis.broken.isEmpty ? "nothing broken" : "\(diagnosis.broken.count) problem(s)",
                                                              durationMS: wholeMilliseconds(clock.now - start))],
                                   saved: nil, remaining: diagnosis.remaining, checks: checkRows(diagnosis.checks), exitCode: 0)
        if let refusal {
            report.steps = []
            report.remaining.insert(refusal, at: 0)
            report.result = "refused"
            report.exitCode = BotOpsExitCode.refused.rawValue
            return report
        }
        if options.dryRun || !options.yes {
            report.steps = []
            report.result = diagnosis.broken.isEmpty ? "healthy" : "planned"
            report.exitCode = options.dryRun ? (diagnosis.broken.isEmpty ? 0 : BotOpsExitCode.failed.rawValue) : BotOpsExitCode.refused.rawValue
            if !options.dryRun {
                report.remaining.append(RecoverReport.Remaining(problem: "nothing was changed: recover never prompts", next: "botops recover --yes"))
            }
            return report
        }
        progress("diagnose  \(diagnosis.broken.isEmpty ? "nothing broken" : diagnosis.broken.joined(separator: "; "))")

        var finalChecks: VerifyReport?
        for step in playbook.steps where step != .diagnose {
            held?.record(step: step.rawValue)
            let stepStart = clock.now
            var outcome: (status: String, message: String)
            do {
                switch step {
                case .diagnose: continue
                case .files: outcome = try await repairFiles(diagnosis, saved: &report.saved)
                case .cron: outcome = try await repairCron(diagnosis)
                case .modes: outcome = try await repairModes(diagnosis)
                case .database: outcome = try await repairDatabase(diagnosis)
                case .checks:
                    let checks = await (try Verification(config: config)).checks(on: runner)
                    if let lost = checks.connectionLost { throw lost }
                    finalChecks = checks
                    let verdict = Self.checksVerdict(checks.results.map { ($0.id, $0.status) })
                    outcome = (verdict.status, verdict.message)
                }
            } catch let error as RemoteError where error.isUnreachable {
                throw error
            } catch let error as RecoverStop {
                report.steps.append(RecoverReport.Step(name: step.rawValue, status: "stopped", message: error.message, durationMS: wholeMilliseconds(clock.now - stepStart)))
                report.remaining.append(RecoverReport.Remaining(problem: error.message, next: error.next))
                break
            } catch {
                outcome = ("failed", "\(error)")
            }
            if report.steps.last?.status == "stopped" { break }
            report.steps.append(RecoverReport.Step(name: step.rawValue, status: outcome.status, message: outcome.message, durationMS: wholeMilliseconds(clock.now - stepStart)))
            progress("\(step.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(outcome.status): \(outcome.message)")
        }

        if let finalChecks {
            report.checks = checkRows(finalChecks)
            for result in finalChecks.results where result.status != .pass {
                let quiet = result.id == .tradeLinkage
                report.remaining.append(RecoverReport.Remaining(
                    problem: "\(result.id.rawValue): \(result.message)" + (quiet ? " (on a quiet day this is not a host breakage)" : ""),
                    next: quiet ? nil : "botops verify --only \(result.id.rawValue)"))
            }
        }
        let stopped = report.steps.contains { $0.status == "stopped" || $0.status == "failed" }
        let allPass = finalChecks.map { Self.checksVerdict($0.results.map { ($0.id, $0.status) }).allPass } ?? false
        report.exitCode = allPass && !stopped && diagnosis.remaining.isEmpty ? 0 : BotOpsExitCode.failed.rawValue
        report.result = report.exitCode == 0 ? (diagnosis.broken.isEmpty ? "healthy" : "repaired") : "still-broken"
        await audit(report, options: options)
        return report
    }

    // MARK: diagnose

    func diagnose() async throws -> Diagnosis {
        let marker = SectionMarker()
        let reader = StatusReader(config: config, runner: runner, entries: entries, localVersion: BotOpsVersion.current)
        async let statusRead = reader.read()
        async let factsResult = runner.run(RecoverFacts.command(config, marker: marker))
        // The report script is not run here: the final checks run it once.
        let verification = try Verification(config: config, skip: [.reportGeneration])
        async let checks = verification.checks(on: runner)
        async let databaseProbe = runner.run(RunningDatabase.probe(container: config.database.container, timeout: .seconds(30)))
        let database = RunningDatabase.read(stdout: try await databaseProbe.stdout, container: config.database.container)
        var diagnosis = Diagnosis(status: try await statusRead, facts: RecoverFacts.parse(try await factsResult.stdout, marker: marker),
                                  checks: await checks, project: database?.project)
        if let lost = diagnosis.checks.connectionLost { throw lost }
        let facts = diagnosis.facts
        let status = diagnosis.status
        for check in diagnosis.checks.results where check.status == .fail {
            diagnosis.broken.append("\(check.id.rawValue): \(check.message)")
        }
        if !facts.dockerRunning {
            diagnosis.remaining.append(.init(problem: "dockerd is not running (root is needed to start it)", next: "sudo systemctl start docker"))
        }
        if let problem = entriesProblem, diagnosis.cronNeedsInstall {
            diagnosis.remaining.append(.init(problem: problem + "; recover leaves the crontab as it is",
                                             next: "fix crontab.d (botops cron diff shows it), commit and deploy it, then botops recover --yes"))
        }
        if facts.cronRunning == false {
            diagnosis.remaining.append(.init(problem: "no cron daemon runs (root is needed to start it)", next: "sudo systemctl start cron"))
        }
        if !facts.checkoutPresent {
            diagnosis.remaining.append(.init(problem: "there is no checkout at \(config.path)", next: "git clone the app to \(config.path), then botops recover --yes"))
        }
        if !facts.trackedChanges.isEmpty { diagnosis.broken.append("tracked files changed or missing: " + facts.trackedChanges.joined(separator: ", ")) }
        if !facts.blocking.isEmpty { diagnosis.broken.append("untracked files stand where tracked paths go: " + facts.blocking.joined(separator: ", ")) }
        if let unreadable = facts.crontabUnreadable {
            diagnosis.broken.append("the crontab cannot be read (\(unreadable))")
            diagnosis.remaining.append(.init(problem: "the crontab cannot be read (\(unreadable)); recover left it alone",
                                             next: "crontab -l (as the ssh user) to see why, then botops recover --yes"))
        } else if diagnosis.crontabEmpty { diagnosis.broken.append("the crontab is empty (removed?)") }
        for entry in status.cron where entry.installed != "installed" && facts.crontabLines > 0 {
            diagnosis.broken.append("cron entry \(entry.name) is \(entry.installed)")
        }
        if !facts.lostModes.isEmpty { diagnosis.broken.append("lost their executable bit: " + facts.lostModes.joined(separator: ", ")) }
        if !facts.logsPresent { diagnosis.broken.append("logs/ is missing (cron's >> logs/… redirect fails, so the job never starts)") }
        if diagnosis.databaseNeedsStart { diagnosis.broken.append("the database container \(config.database.container) is \(status.database.state)") }
        for service in diagnosis.servicesToStart {
            diagnosis.broken.append(service.state == "running" ? "\(service.service) started before the database's current start" : "\(service.service) is \(service.state)")
        }
        let restore = status.newestVerifiedBackup.map(\.restoreCommand)
            ?? "no verified backup on the host: restore the ledger from an off-host copy (botops restore)"
        if let database {
            if let (volume, state) = try await RecoverFacts.judgeVolume(of: database, on: runner) {
                (diagnosis.facts.volume, diagnosis.facts.volumeState) = (volume, state)
            }
        } else if status.database.state == "missing" {
            try await judgeVolumeOfMissingDatabase(&diagnosis)
        }
        let volume = diagnosis.facts.volume ?? "(unknown)"
        switch diagnosis.facts.volumeState {
        case .missing?, .noCluster?:
            diagnosis.dataStop = .init(problem: "the database volume \(volume) \(diagnosis.facts.volumeState == .missing ? "is gone" : "holds no PG_VERSION"); recover starts nothing on it and never restores on its own",
                                       next: restore)
        case .unknown(let reason)?:
            diagnosis.dataStop = .init(problem: "recover could not tell what the database volume \(volume) holds (\(reason)), so it starts nothing on it",
                                       next: "docker volume inspect \(shellQuote(volume)); docker images; then botops recover --yes")
        case nil where status.database.state == "missing":
            diagnosis.dataStop = .init(problem: "the database container \(config.database.container) is gone and recover could not find its volume in the compose file, so it starts nothing",
                                       next: "look at \(config.compose.file) in \(config.path) (compose config), then botops recover --yes")
        default:
            // The checks that query the ledger say which of its tables are gone: by SQLSTATE 42P01
            // (undefined_table), not the words "does not exist", which a missing database or role
            // says too (a config error that no restore repairs).
            let gone = diagnosis.checks.results.filter {
                [.dbConnectivity, .tradeLinkage, .snapshotActive].contains($0.id) && $0.status == .fail && $0.evidence.contains(Evidence("sqlstate", "42P01"))
            }
            if !gone.isEmpty {
                diagnosis.dataStop = .init(problem: "ledger tables are gone (\(gone.map(\.id.rawValue).joined(separator: ", ")): \(gone[0].message.prefix(200))); recover never restores on its own",
                                           next: restore)
            }
        }
        if let stop = diagnosis.dataStop { diagnosis.remaining.append(stop) }
        if let problem = status.releasesProblem {
            diagnosis.broken.append("the release records: \(problem)")
            diagnosis.remaining.append(.init(problem: "the release records cannot be read; recover leaves them alone (rollback and deploy refuse until they can)",
                                             next: "ls -l \(state.path)/releases.json, then fix its permissions or move it aside"))
        }
        let runningRevisions = Set(status.services.compactMap(\.revision))
        if let head = status.checkout.revision, runningRevisions.count == 1, let running = runningRevisions.first, running != head {
            diagnosis.remaining.append(.init(problem: "HEAD (\(head.prefix(12))) is not the release the services run (\(running.prefix(12)))",
                                             next: "botops rollback --to \(running.prefix(12)) (or botops deploy --all to run HEAD)"))
        }
        return diagnosis
    }

    /// The database container is gone: its compose service and volume come from `compose config`
    /// (in the project the services' containers carry, else the one compose derives), and the
    /// volume is judged before anything may recreate the container on it.
    func judgeVolumeOfMissingDatabase(_ diagnosis: inout Diagnosis) async throws {
        let ids = diagnosis.status.services.compactMap(\.container)
        if diagnosis.project == nil, !ids.isEmpty {
            let projects = try await ComposeProjectLabel.probe(containers: ids, timeout: .seconds(30)).run(on: runner)
            if projects.count == 1 { diagnosis.project = projects.first }
        }
        var compose = commands
        compose.compose.project = diagnosis.project
        let result = try await runner.run(compose.composeConfig(config, timeout: .seconds(60)))
        guard result.succeeded, let project = try? ComposeProject.parse(result.stdout),
              let service = project.databaseService(container: config.database.container) else { return }
        diagnosis.databaseService = service.name
        // Found as deploy finds it; the cluster is looked for at the data directory's path in it.
        let dataDirectory = service.dataDirectory ?? RunningDatabase.defaultDataDirectory
        let held = service.mount(holding: dataDirectory)
        let projectName = diagnosis.project ?? Self.derivedProject(config.path)
        guard let held, case .volume(let name) = project.resolve(held.mount, project: projectName) else {
            diagnosis.facts.volumeState = .unknown("the compose service \(service.name) keeps its data on no named volume")
            return
        }
        diagnosis.facts.volume = name
        guard let image = service.image else {
            diagnosis.facts.volumeState = .unknown("the compose service \(service.name) names no image")
            return
        }
        let check = try await runner.run(RecoverFacts.volumeCheck(name, image: image, subdirectory: RunningDatabase.subdirectory(dataDirectory, under: held.point)))
        diagnosis.facts.volumeState = RecoverFacts.VolumeState.parse(check.stdout.split(separator: "\n").last.map(String.init) ?? "")
        // With no container left to name the stack's project, the volume's name is compose's guess
        // from the checkout's directory: a volume of the same compose key in another project (the
        // stack brought up as bottrader-aws from a checkout named otherwise) is not "gone".
        if diagnosis.facts.volumeState == .missing, diagnosis.project == nil, case .volume(let key) = held.mount,
           let declared = project.volumes[key], declared.name == nil, !declared.external {
            let others = try await runner.run(RemoteCommand(
                "docker volume ls --filter label=com.docker.compose.volume=\(key) --format '{{.Name}} (compose project {{.Label \"com.docker.compose.project\"}})'",
                timeout: .seconds(30)))
            let found = others.stdout.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
            if !found.isEmpty {
                diagnosis.facts.volumeState = .unknown(
                    "no container is left to name the stack's compose project, and \(name) (the project compose derives from \(config.path)) does not exist, but "
                    + found.joined(separator: ", ") + " does: bring the stack up in its own project (compose -p PROJECT up -d in \(config.path))")
            }
        }
    }

    /// The project compose names a stack after when none is given: the checkout directory's name,
    /// lowercased, with what compose does not allow dropped.
    static func derivedProject(_ path: String) -> String {
        String(path.split(separator: "/").last ?? "").lowercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }

    /// Every command a run with --yes would send, in playbook order.
    func planned(_ diagnosis: Diagnosis) -> [String] {
        var plan: [String] = []
        for step in playbook.steps {
            switch step {
            case .diagnose: continue
            case .files where diagnosis.filesNeedRestore: plan.append(saveAndRestoreCommand(diagnosis, directory: "\(state.path)/recover/TIME").displayText)
            case .cron where diagnosis.cronNeedsInstall:
                if let problem = entriesProblem {
                    plan.append("no cron change: \(problem)")
                    continue
                }
                if diagnosis.crontabEmpty { plan.append("put back the newest crontab backup in \(state.path)/crontab-backups that holds your own lines") }
                plan.append("botops cron install (managed entries from \(entriesSource): \(entries.map(\.name).joined(separator: ", ")))")
            case .modes where diagnosis.modesNeedRepair: plan += modeCommands(diagnosis).map(\.displayText)
            case .database where !diagnosis.dataLost && (diagnosis.databaseNeedsStart || !diagnosis.servicesToStart.isEmpty):
                plan += databaseCommands(diagnosis).map(\.displayText) + serviceCommands(diagnosis).map(\.displayText)
            case .checks: plan.append("the nine checks (botops verify)")
            default: continue
            }
        }
        return plan
    }

    // MARK: files

    /// Saves the local changes (`git diff --binary` and the untracked files) into `directory`,
    /// moves files that block a tracked path in with them, and only then restores the tracked
    /// files from HEAD. Any failure while saving stops before the restore.
    func saveAndRestoreCommand(_ diagnosis: Diagnosis, directory: String) -> RemoteCommand {
        let dir = StateDirectory(path: directory).script
        var lines: ShellScript = """
            set -e
            mkdir -p \(dir)
            git diff --binary HEAD > \(dir)/changes.patch
            git ls-files -z --others --exclude-standard -- . ':(exclude)logs' ':(exclude).env' > \(dir)/untracked.list
            if [ -s \(dir)/untracked.list ]; then tar --null -T \(dir)/untracked.list -cf \(dir)/untracked.tar; fi
            sync \(dir)/changes.patch
            """
        // The blockers are found again here (not taken from the diagnosis's display lines) and
        // moved by NUL-separated name, so no name is ever split or re-quoted.
        lines = ShellScript.lines([lines, "\(RecoverFacts.blockers) > \(dir)/blocking.list",
            """
            if [ -s \(dir)/blocking.list ]; then xargs -0 sh -c 'for p; do case $p in */*) mkdir -p "$0/blocking/${p%/*}" ;; *) mkdir -p "$0/blocking" ;; esac && mv -- "$p" "$0/blocking/$p" || exit 255; done' \(dir) < \(dir)/blocking.list; fi
            """,
            "git restore --source=HEAD --worktree -- . ':(exclude).env' ':(exclude)logs'", "git diff --name-status HEAD -- . ':(exclude).env' ':(exclude)logs'"])
        return RemoteCommand(commands.inCheckout(lines), timeout: .seconds(120),
                             effect: .changes("saves local changes to \(directory), then restores tracked files from HEAD (HEAD does not move)"))
    }

    func repairFiles(_ diagnosis: Diagnosis, saved: inout String?) async throws -> (String, String) {
        guard diagnosis.filesNeedRestore else { return ("nothing-to-do", "tracked files match HEAD") }
        let stamp = formatUTC(Int(Date().timeIntervalSince1970)).replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "-", with: "")
        let directory = "\(state.path)/recover/\(stamp)"
        let result = try await runner.run(saveAndRestoreCommand(diagnosis, directory: directory))
        guard result.succeeded else {
            throw RecoverStop(message: "saving local changes to \(directory) failed, so no tracked file was restored: \(result.shownOutput.prefix(300))",
                              next: "free disk space on the host (df -h), then botops recover --yes")
        }
        saved = directory
        let left = result.stdout.split(separator: "\n").filter { !$0.isEmpty }
        guard left.isEmpty else { return ("failed", "still differ from HEAD: " + left.joined(separator: ", ")) }
        return ("repaired", "restored \(diagnosis.facts.trackedChanges.count) tracked file(s) from HEAD; local changes saved in \(directory) (changes.patch, untracked.tar)")
    }

    // MARK: cron

    func repairCron(_ diagnosis: Diagnosis) async throws -> (String, String) {
        guard diagnosis.cronNeedsInstall else { return ("nothing-to-do", "the managed entries are installed") }
        if let problem = entriesProblem { return ("failed", problem) }
        let host = CronHost(runner: runner, state: state)
        var said: [String] = []
        // Read again right before writing: a crontab that is not empty now (or cannot be read:
        // readCrontab throws) never gets a backup put over it.
        if diagnosis.crontabEmpty, try await host.readCrontab().bytes.allSatisfy({ [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n")].contains($0) }) {
            // The user's own lines come back from the newest backup that has any, exactly as saved.
            for backup in try await host.backups().reversed() {
                let crontab = try await host.backup(backup.name)
                let own = try ManagedCrontab(crontab).unmanagedLines.filter { !String(decoding: $0.bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces).isEmpty }
                guard !own.isEmpty else { continue }
                _ = try await host.restore(backup.name)
                said.append("put back \(own.count) line(s) of your own from crontab backup \(backup.name): " + own.map { "line \($0.number)" }.joined(separator: ", "))
                break
            }
            if said.isEmpty { said.append("no crontab backup holds lines of your own; only the managed entries are installed") }
        }
        let service = CronService(host: host, destination: runner.destination, now: Int64(Date().timeIntervalSince1970))
        let installed = try await service.install(entries, force: true, lock: AlreadyLocked(), command: "botops recover")
        said.append(installed.backup == nil ? "managed entries already as \(entriesSource) says"
                    : "installed the managed entries from \(entriesSource) (previous crontab saved as \(installed.backup!))")
        if let window = installed.forcedThrough {
            said.append("ran inside the blackout window of \(window.entry) (a recovery is not held back by it)")
        }
        return ("repaired", said.joined(separator: "; "))
    }

    // MARK: modes

    func modeCommands(_ diagnosis: Diagnosis) -> [RemoteCommand] {
        var list: [RemoteCommand] = []
        if !diagnosis.facts.lostModes.isEmpty { list.append(commands.restoreExecutableModes(timeout: .seconds(60))) }
        if !diagnosis.facts.logsPresent {
            list.append(RemoteCommand(commands.inCheckout("mkdir -p logs"), timeout: .seconds(20), effect: .changes("recreates logs/ in \(config.path)")))
        }
        return list
    }

    func repairModes(_ diagnosis: Diagnosis) async throws -> (String, String) {
        guard diagnosis.modesNeedRepair else { return ("nothing-to-do", "modes as git tracks them; logs/ present") }
        for command in modeCommands(diagnosis) {
            let result = try await runner.run(command)
            guard result.succeeded else { return ("failed", result.shownOutput) }
        }
        var done: [String] = []
        if !diagnosis.facts.lostModes.isEmpty { done.append("chmod +x " + diagnosis.facts.lostModes.joined(separator: " ")) }
        if !diagnosis.facts.logsPresent { done.append("recreated logs/") }
        return ("repaired", done.joined(separator: "; "))
    }

    // MARK: database

    func databaseCommands(_ diagnosis: Diagnosis) -> [RemoteCommand] {
        let db = config.database.container
        let command: ShellScript
        switch diagnosis.status.database.state {
        case "running": return []
        case "paused": command = "docker unpause \(db) >/dev/null"
        // Only a container that is gone is created, from the compose service that declares it
        // (found by diagnose, whose volume was judged to hold the cluster: compose reuses it).
        case "missing": command = commands.inCheckout(ComposeInvocation.onHost(config, project: diagnosis.project,
                                                                               ["up", "-d", "--no-deps", diagnosis.databaseService ?? db]))
        default: command = "docker start \(db) >/dev/null"
        }
        return [RemoteCommand(command, timeout: .seconds(120), effect: .changes("brings \(db) back (its volume untouched)")), waitForDatabase()]
    }

    /// Until the database accepts queries and its healthcheck (if any) says healthy again: after
    /// a pause it reports unhealthy until its next check, and the nine checks would fail on that.
    func waitForDatabase() -> RemoteCommand {
        let db = config.database
        let ready = ShellScript(argv: ["docker", "exec", db.container, "pg_isready", "-q", "-U", db.user, "-d", db.name])
        let limit = Int(totalSeconds(config.health.timeout) * 2)
        return RemoteCommand("""
            i=0; until \(ready) && case "$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' \(db.container))" in healthy|none) true;; *) false;; esac
            do i=$((i+1)); [ $i -ge \(limit) ] && exit 1; sleep 0.5; done
            """, timeout: config.health.timeout + .seconds(30))
    }

    func serviceCommands(_ diagnosis: Diagnosis) -> [RemoteCommand] {
        diagnosis.servicesToStart.map { service in
            let script: ShellScript
            if let container = service.container {
                script = service.state == "running" ? "docker restart \(container) >/dev/null" : "docker start \(container) >/dev/null"
            } else {
                script = commands.inCheckout(ComposeInvocation.onHost(config, project: diagnosis.project, ["up", "-d", "--no-deps", service.service]))
            }
            let wait: ShellScript = """
                i=0; while :; do s=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' \(service.container ?? service.service) 2>/dev/null)
                case "$s" in "running healthy"|"running none") exit 0;; esac; i=$((i+1)); [ $i -ge \(Int(totalSeconds(config.health.timeout) * 2)) ] && { echo "$s"; exit 1; }; sleep 0.5; done
                """
            return RemoteCommand(ShellScript.lines([script, wait]), timeout: config.health.timeout + .seconds(60),
                                 effect: .changes("starts \(service.service) and waits until it is healthy"))
        }
    }

    func repairDatabase(_ diagnosis: Diagnosis) async throws -> (String, String) {
        if let stop = diagnosis.dataStop {
            throw RecoverStop(message: stop.problem, next: stop.next)
        }
        guard diagnosis.databaseNeedsStart || !diagnosis.servicesToStart.isEmpty else { return ("nothing-to-do", "the database and services run") }
        var done: [String] = []
        for command in databaseCommands(diagnosis) {
            let result = try await runner.run(command)
            guard result.succeeded else { return ("failed", "\(config.database.container): \(result.shownOutput.prefix(300))") }
        }
        if diagnosis.databaseNeedsStart { done.append("\(config.database.container) was \(diagnosis.status.database.state), now accepts queries") }
        // One at a time, each healthy before the next.
        for (service, command) in zip(diagnosis.servicesToStart, serviceCommands(diagnosis)) {
            let result = try await runner.run(command)
            guard result.succeeded else { return ("failed", "\(service.service) did not become healthy: \(result.shownOutput.prefix(300))") }
            done.append("\(service.service) \(service.state == "running" ? "restarted" : "started"), healthy")
        }
        return ("repaired", done.joined(separator: "; "))
    }

    // MARK: report

    /// "All nine pass" only when every one of the nine ran and passed: a warned or skipped check
    /// is not a pass, and recover then exits 1 naming it.
    static func checksVerdict(_ results: [(id: CheckID, status: CheckStatus)]) -> (allPass: Bool, status: String, message: String) {
        let notPassing = results.filter { $0.status != .pass }
        let missing = CheckID.allCases.filter { id in !results.contains { $0.id == id } }
        if notPassing.isEmpty, missing.isEmpty { return (true, "pass", "all \(results.count) checks pass") }
        let said = notPassing.map { "\($0.id.rawValue) \($0.status.rawValue)" } + missing.map { "\($0.rawValue) not run" }
        return (false, notPassing.contains { $0.status == .fail } ? "failed" : "not-all-pass", said.joined(separator: ", "))
    }

    func checkRows(_ report: VerifyReport) -> [[String: String]] {
        report.results.map { ["id": $0.id.rawValue, "status": $0.status.rawValue, "message": $0.message] }
    }

    func audit(_ report: RecoverReport, options: Options) async {
        var record = AuditRecord(action: "recover", command: options.command, result: report.result)
        record.steps = report.steps.map { AuditRecord.Step(name: $0.name, status: $0.status, durationMS: $0.durationMS) }
        record.failure = report.remaining.isEmpty ? nil : report.remaining.map(\.problem).joined(separator: "; ")
        try? await AuditLog(state: state, runner: runner).append(record)
    }
}

/// A repair that must not go ahead: what happened and the command for a human.
struct RecoverStop: Error {
    var message: String
    var next: String?
}

/// recover holds the deploy lock already; the cron install runs inside it.
struct AlreadyLocked: CrontabChangeLock {
    func withLock<T: Sendable>(purpose: String, _ body: @Sendable () async throws -> T) async throws -> T {
        try await body()
    }
}
