import Checks
import Foundation
import HostCommands
import Remote

/// Why a full restore stopped; the message says what state the host is in and what to do.
public enum RestoreError: Error, CustomStringConvertible, ExitCodeProviding {
    case unknown(String)
    case unknownTables(String)
    /// `--tables`: the transaction rolled back, the live database is as it was.
    case tablesNotRestored(String)
    case damaged(id: String, detail: String)
    case refused(String)
    case failed(String)
    /// The swap happened, then the services did not come back: the host needs a person.
    case servicesFailedAfterSwap(detail: String, swapBack: [String])
    /// Ctrl-C or SIGTERM during a full restore, at the safe point after `step`: what the host is
    /// left with, the commands to run next, and (after the swap) those that swap back.
    case interrupted(signal: Int32, step: String, state: String, advice: [String], swapBack: [String] = [])
    /// The connection to the host lost during a full restore: what the host may be left with and
    /// the commands that put it right whatever the step in flight did there; `changed` when the
    /// services may be stopped or the swap done (exit 5), else only the new database is left (exit 3).
    case connectionLost(step: String, detail: String, state: String, advice: [String], swapBack: [String], changed: Bool)
    /// `--tables`: the connection lost during the restore; `commitSent` when botops had already
    /// let the host commit, so whether it did is unknown (`check` says).
    case tablesConnectionLost(detail: String, commitSent: Bool, check: String)
    /// `--tables`: Ctrl-C or SIGTERM after botops let the host commit, and no word that it did.
    case tablesInterruptedAtCommit(signal: Int32, check: String)

    public var exitCode: BotOpsExitCode {
        switch self {
        case .unknown, .unknownTables: return .usage
        case .damaged, .failed, .tablesNotRestored: return .failed
        case .refused: return .refused
        case .servicesFailedAfterSwap: return .needsHuman
        // The lifecycle exits 128 + the signal for an interrupted command that stopped itself.
        case .interrupted: return .failed
        case let .connectionLost(_, _, _, _, _, changed): return changed ? .needsHuman : .unreachable
        case .tablesConnectionLost: return .unreachable
        case .tablesInterruptedAtCommit: return .failed
        }
    }

    private static func commitUnknown(_ check: String) -> String {
        "whether the restore committed is not known. To tell, run on the host:\n  \(check)\nt: it committed (the tables are restored); "
            + "f: nothing changed, run the restore again; running: the restore's session is still on the server and may yet commit, run the check again later."
    }

    public var description: String {
        switch self {
        case .unknown(let name):
            return "no backup \(name) in backup.dir (or, for latest, no verified one); botops backups lists them"
        case let .damaged(id, detail):
            return "backup \(id) cannot be relied on: \(detail)"
        case .unknownTables(let why):
            return why
        case .tablesNotRestored(let why):
            return "the tables were not restored, nothing changed (the transaction rolled back): \(why)"
        case .refused(let why):
            return "refused: \(why)"
        case .failed(let why):
            return "restore failed, the live database is unchanged: \(why)"
        case let .servicesFailedAfterSwap(detail, swapBack):
            return "the restored database is live, but the services did not come back: \(detail). Not swapped back automatically. "
                + "To put the replaced database back, stop the services and run:\n  " + swapBack.joined(separator: "\n  ")
        case let .interrupted(signal, step, state, advice, swapBack):
            return "restore interrupted (\(signalName(signal))) during step \(step): \(state). Next, run:\n  " + advice.joined(separator: "\n  ")
                + (swapBack.isEmpty ? "" : "\nTo put the previous database back instead, stop the services and run:\n  " + swapBack.joined(separator: "\n  "))
        case let .connectionLost(step, detail, state, advice, swapBack, _):
            return "restore: connection lost during step \(step) (\(detail)): \(state). Next, run:\n  " + advice.joined(separator: "\n  ")
                + (swapBack.isEmpty ? "" : "\nTo put the previous database back instead, stop the services and run:\n  " + swapBack.joined(separator: "\n  "))
        case let .tablesConnectionLost(detail, commitSent, check):
            if commitSent {
                return "restore --tables: connection lost as botops let the host commit (\(detail)): " + Self.commitUnknown(check)
            }
            return "restore --tables: connection lost before botops let the host commit (\(detail)): nothing will be committed. The restore's session "
                + "on the host rolls back once it has read all it was given (then it asks for botops's word, and waits \(TableRestore.commitWait.components.seconds) s "
                + "at most); until then it keeps its tables locked. To see whether it is still there, run on the host:\n  \(check)\n"
                + "running: still there; f: rolled back, nothing changed, run the restore again."
        case let .tablesInterruptedAtCommit(signal, check):
            return "restore --tables interrupted (\(signalName(signal))) after botops let the host commit: " + Self.commitUnknown(check)
        }
    }
}

/// A full restore of one backup beside the live database, then the rename swap. The caller holds the deploy lock.
public struct RestoreJob: Sendable {
    public struct Plan: Sendable {
        public var record: BackupRecord
        public var facts: [String: String]
        public var services: [String]
        public var scripts: RestoreScripts
        /// The backup's roles file in backup.dir, whose roles missing on the server are created first.
        public var roles: BackupRoles.Presence

        /// No live database: a recreated, empty cluster. Nothing to stop, swap or set aside.
        public var liveMissing: Bool { facts["missing"] != nil }

        /// What the plan says of the roles: created when missing, never altered.
        var rolesLine: String {
            let file = BackupRoles.fileName(record.id)
            switch roles {
            case .absent:
                return "no \(file) in backup.dir: no role is created (the roles the dump's objects belong or are granted to must exist on the server)"
            case .intact, .unchecked:
                return "create the roles of \(file) missing on the server (read in a throwaway server; a role that exists is never altered)"
                    + (roles == .unchecked ? "; " + BackupRoles.uncheckedNote(file) : "; its sha256 equals the record's")
            }
        }

        public var lines: [String] {
            let rows = record.tables.reduce(Int64(0)) { $0 + $1.rows }
            if liveMissing {
                return [
                    rolesLine,
                    "restore \(record.id) (\(record.status.rawValue), \(record.tables.count) tables, \(rows) rows) into a new database \(scripts.newName)"
                        + " (owner \(facts["owner"] ?? "?"), encoding \(facts["encoding"] ?? "?"), collation \(facts["collate"] ?? "?"), ctype \(facts["ctype"] ?? "?"))",
                    "compare every table's figures with the record; drop it on any difference",
                    "\(scripts.live) does not exist (an empty cluster): rename \(scripts.newName) → \(scripts.live); no service is stopped and nothing is swapped or set aside",
                ]
            }
            return [
                rolesLine,
                "restore \(record.id) (\(record.status.rawValue), \(record.tables.count) tables, \(rows) rows) into a new database \(scripts.newName)"
                    + " (owner \(facts["owner"] ?? "?"), encoding \(facts["encoding"] ?? "?"), collation \(facts["collate"] ?? "?"), ctype \(facts["ctype"] ?? "?"))",
                "compare every table's figures with the record; refuse the swap on any difference",
                "stop those of \(services.isEmpty ? "no services" : services.joined(separator: ", ")) that are running",
                "close \(scripts.live) to connections, terminate and name the backends left",
                "rename \(scripts.live) → \(scripts.replacedName) and \(scripts.newName) → \(scripts.live) in one transaction",
                "start them again, wait until they are healthy and run the nine checks (run once before the stop too); the replaced database stays",
            ]
        }
    }

    public let config: BotOpsConfig
    public let runner: any CommandRunner
    public let scripts: RestoreScripts
    let commands: DeployCommands

    public init(config: BotOpsConfig, runner: any CommandRunner, now: Date = Date()) {
        self.config = config
        self.runner = runner
        scripts = RestoreScripts(config: config, now: now)
        let program = config.compose.command == .v1 ? ["docker-compose"] : ["docker", "compose"]
        commands = DeployCommands(path: config.path, compose: ComposeInvocation(program: program, envFile: config.compose.envFile, file: config.compose.file),
                                  state: config.deploy.stateDirectory)
    }

    /// The backup, its sha256 checked, and the facts the plan needs; refuses without room for a second copy.
    public func plan(_ entry: BackupCatalog.Entry) async throws -> Plan {
        try await entry.checkIntact(scripts.backup, runner: runner)
        let roles = try await BackupRoles.check(entry.record, scripts: scripts.backup, runner: runner)
        let probe = try await runner.run(scripts.facts())
        guard probe.succeeded else { throw RestoreError.failed("cannot read the live database's settings: \(probe.shownOutput)") }
        var facts: [String: String] = [:]
        var taken: [String] = []
        for line in probe.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            if parts[0] == "taken" { taken.append(parts[1]) } else { facts[parts[0]] = parts[1] }
        }
        guard taken.isEmpty else { throw RestoreError.refused("the database \(taken.joined(separator: ", ")) exists already; try again in a second") }
        if facts["missing"] != nil { facts["owner"] = config.database.user }
        guard let free = FreeDisk.parse(facts["free"])?.freeBytes else {
            throw RestoreError.refused("df printed no free space for the database's disk (in the \(config.database.container) container), so botops cannot tell whether a second copy of \(scripts.live) fits")
        }
        let needed = (Int64(facts["live_size"] ?? "") ?? 0) + config.backup.minFreeDiskBytes
        if free < needed {
            throw RestoreError.refused("\(formatBytes(free)) free on the database's disk; a second copy of \(scripts.live) needs \(formatBytes(needed)) (its size plus backup.min_free_disk)")
        }
        return Plan(record: entry.record, facts: facts, services: config.services, scripts: scripts, roles: roles)
    }

    /// The steps of a full restore, in order; `progress` hears each as it starts.
    public enum Step: String, CaseIterable, Sendable {
        case restore, baseline, stop, close, swap, start
        case waitHealthy = "wait-healthy"
        case checks
    }

    /// Runs the plan; returns what the operator is told (backends terminated, rows beyond the
    /// backup). An interruption stops at the next safe point: before the swap, the restore into
    /// the new database is ended, a service stopped is started again, the live database is opened
    /// again and the new one dropped (nothing live changed); from the swap on, the swap completes
    /// and the services are started, not waited for. Either way `RestoreError.interrupted` says
    /// what the host is left with and what to run.
    public func run(_ plan: Plan, interruption: Interruption = Interruption(), progress: @Sendable (Step, String) -> Void) async throws -> [String] {
        let current = CurrentStep()
        do {
            return try await run(plan, interruption: interruption, current: current, progress: progress)
        } catch let error as RemoteError where error.isUnreachable {
            // Nothing on the host puts back services stopped or a database closed by a step before
            // the loss: the message gives the commands that do, right whatever that step did there.
            throw lost(error, during: current.value, stopped: current.stopped)
        }
    }

    private func run(_ plan: Plan, interruption: Interruption, current: CurrentStep, progress: @Sendable (Step, String) -> Void) async throws -> [String] {
        let record = plan.record
        let runner = runner, end = scripts.endRestoreSession()
        interruption.onRequest(stillRunning: { [self] in leftRunning(record.id, current: current) }) { _ in
            // Only the restore into the new database is stopped on the host; every later step is
            // short and runs to its end. Its pg_restore may not have connected yet (createdb runs
            // first): its session is ended again until the step returns.
            if current.interrupt() == .restore {
                Task {
                    while current.restoring {
                        _ = try? await runner.run(end)
                        try? await Task.sleep(for: .milliseconds(250))
                    }
                }
            }
        }
        progress(.restore, "restoring \(record.id).dump into \(scripts.newName)")
        let restored = try await { () async throws -> RemoteCommandResult in
            defer { current.restoring = false }
            return try await runner.run(scripts.restoreBeside(record.id, owner: plan.facts["owner"] ?? config.database.user, encoding: plan.facts["encoding"] ?? "UTF8",
                                                              collate: plan.facts["collate"] ?? "C", ctype: plan.facts["ctype"] ?? "C", roles: plan.roles != .absent,
                                                              rolesSha256: plan.roles == .intact ? record.rolesSha256 : nil))
        }()
        // Names only: what a role's row held (its password hash) is never printed.
        let lines = restored.stdout.split(separator: "\n")
        let created = lines.filter { $0.hasPrefix("role_created ") }.map { terminalSafe(String($0.dropFirst(13))) }
        let withheld = lines.filter { $0.hasPrefix("role_withheld ") }.map { terminalSafe(String($0.dropFirst(14))) }
            .map { $0.replacing(": ", with: " (", maxReplacements: 1) + ")" }
        let rolesNote = created.isEmpty ? nil : "created the roles missing on the server: " + created.joined(separator: ", ")
            + (withheld.isEmpty ? "" : "; withheld from them, as a backup's file may not grant it: " + withheld.joined(separator: "; ")
                + " (grant it by hand if it is wanted)")
        if let signal = interruption.signal {
            // The roles step runs to its end after a signal (only pg_restore's session is ended).
            try await undo(signal, during: current.interrupted ?? .restore, running: [], reopen: false, rolesCreated: rolesNote)
        }
        let problems = restored.succeeded
            ? BackupFigures.differences(recorded: BackupFigures(tables: record.tables, sequences: record.sequences), restored: BackupFigures(parsing: restored.stdout))
            : ["the restore into \(scripts.newName) failed: " + String(restored.shownOutput.suffix(600))]
        guard problems.isEmpty else {
            let left = await dropNew()
            throw RestoreError.failed(problems.prefix(10).joined(separator: "; ") + (left.isEmpty ? " (\(scripts.newName) dropped)" : left)
                + (rolesNote.map { "; \($0) (they stay)" } ?? ""))
        }

        var notes = (rolesNote.map { [$0] } ?? []) + ["\(scripts.newName): all \(record.tables.count) tables' figures equal the record"]
        if plan.liveMissing {
            let renamed = try await runner.run(scripts.takeName())
            guard renamed.succeeded else {
                let left = await dropNew()
                throw RestoreError.failed("could not rename \(scripts.newName) to \(scripts.live): \(renamed.shownOutput)" + left)
            }
            return notes + ["\(scripts.live) did not exist (an empty cluster): \(scripts.newName) took its name; nothing was swapped or set aside"]
        }
        current.value = .baseline
        progress(.baseline, "the nine checks before the swap")
        let baseline = try await checks()
        if let signal = interruption.signal { try await undo(signal, during: current.interrupted ?? .baseline, running: [], reopen: false) }
        // Only the services running now are stopped, started again and waited for: one the
        // operator stopped, or one without a container, stays as it is.
        let containers = try await Deployer.containers(plan.services, commands: commands, runner: runner)
        let states = try await runner.run(commands.containerStates(Array(containers.values.map(\.container)), timeout: .seconds(30)))
        let up = Set(states.stdout.split(separator: "\n").compactMap { HealthTracker.Observation.parse(String($0)) }.filter { $0.status == "running" }.map(\.id))
        let services = plan.services.filter { containers[$0].map { up.contains($0.container) } ?? false }
        let running = services.compactMap { containers[$0]?.container }
        current.value = .stop
        current.stopped = running
        progress(.stop, "stopping \(services.isEmpty ? "no running service" : services.joined(separator: ", "))")
        if !running.isEmpty {
            let stopped = try await runner.run(RemoteCommand("docker stop -t 10 \(running) >/dev/null", timeout: .seconds(120), effect: .changes("stops the services")))
            guard stopped.succeeded else {
                try await startServices(running)
                let left = await dropNew()
                throw RestoreError.failed("could not stop the services: \(stopped.shownOutput)" + left)
            }
        }
        if let signal = interruption.signal { try await undo(signal, during: current.interrupted ?? .stop, running: running, reopen: false) }
        current.value = .close
        progress(.close, "closing \(scripts.live) to connections")
        let closed = try await runner.run(scripts.close())
        let closedLines = closed.stdout.split(separator: "\n")
        guard closed.succeeded, closedLines.contains("closed") else {
            _ = try? await runner.run(scripts.reopenLive())
            try await startServices(running)
            let left = await dropNew()
            throw RestoreError.failed("could not close \(scripts.live) to connections: \(closed.shownOutput)" + left)
        }
        notes += closedLines.filter { $0.hasPrefix("backend ") }.map { "terminated " + $0 }
        if let signal = interruption.signal { try await undo(signal, during: current.interrupted ?? .close, running: running, reopen: true) }
        current.value = .swap
        progress(.swap, "swapping \(scripts.live) and \(scripts.newName)")
        let swap = try await runner.run(scripts.swap())
        guard swap.stdout.split(separator: "\n").contains("swapped") else {
            _ = try? await runner.run(scripts.reopenLive())
            try await startServices(running)
            let left = await dropNew()
            throw RestoreError.failed("the rename did not happen: \(swap.shownOutput)" + left)
        }
        // From here on the backup is live: an interruption still starts the services (a ledger
        // without its services helps no one) and then stops, without waiting for them.
        do {
            if !swap.succeeded { throw RestoreStepFailure("could not allow connections to \(scripts.replacedName) again: \(swap.shownOutput)") }
            current.value = .start
            progress(.start, "starting \(services.joined(separator: ", "))")
            try await startServices(running)
            if let signal = interruption.signal { throw afterSwap(signal, during: current.interrupted ?? .start, services: services) }
            current.value = .waitHealthy
            progress(.waitHealthy, "waiting until \(services.joined(separator: ", ")) are healthy")
            try await waitHealthy(services, interruption: interruption)
            if let signal = interruption.signal { throw afterSwap(signal, during: current.interrupted ?? .waitHealthy, services: services) }
            // The last step: an interruption during it finds the restore done.
            current.value = .checks
            progress(.checks, "the nine checks")
            let report = try await checks()
            let passed = Set(baseline.results.filter { $0.status == .pass }.map(\.id))
            let failing = report.results.filter { $0.status == .fail && passed.contains($0.id) }
            if !failing.isEmpty {
                throw RestoreStepFailure("passing before the swap, failing now: " + failing.map { "\($0.id.rawValue) (\($0.message))" }.joined(separator: "; "))
            }
            notes.append("the nine checks: \(report.count(.pass)) pass" + (report.failed ? ", \(report.count(.fail)) failing as before the restore" : ""))
        } catch let error as RestoreError {
            throw error
        } catch let error as RemoteError {
            throw error
        } catch {
            throw RestoreError.servicesFailedAfterSwap(detail: "\(error)", swapBack: scripts.swapBackCommands)
        }
        let replaced = try await runner.run(scripts.figuresCommand(of: scripts.replacedName))
        if replaced.succeeded {
            let recorded = Dictionary(record.tables.map { ($0.qualifiedName, $0.rows) }, uniquingKeysWith: { a, _ in a })
            let beyond = BackupFigures(parsing: replaced.stdout).tables.compactMap { table -> (String, Int64)? in
                let extra = table.rows - (recorded[table.qualifiedName] ?? 0)
                return extra > 0 ? (table.qualifiedName, extra) : nil
            }
            let total = beyond.reduce(Int64(0)) { $0 + $1.1 }
            notes.append("\(scripts.replacedName) holds \(total) rows beyond the backup" + (beyond.isEmpty ? "" : ": " + beyond.map { "\($0.0) +\($0.1)" }.joined(separator: ", ")))
        } else {
            notes.append("could not count the rows of \(scripts.replacedName): \(replaced.shownOutput)")
        }
        return notes
    }

    /// Drops the new database after a failure before the swap. Empty when it is gone; else what
    /// the error adds: it stays on the live server (a second copy, unseen by the next restore).
    private func dropNew() async -> String {
        let dropped = try? await runner.run(scripts.dropNew())
        return dropped?.succeeded == true ? "" : "; \(scripts.newName) could not be dropped: \(dropped.map(\.shownOutput) ?? "the host did not answer"). Drop it with:\n  \(scripts.dropNewCommand)"
    }

    /// The nine checks on the host.
    private func checks() async throws -> VerifyReport {
        let report = await (try Verification(config: config)).checks(on: runner)
        if let lost = report.connectionLost { throw lost }
        return report
    }

    /// An interruption before the swap: puts back what this run changed (connections to the live
    /// database, the services it stopped) and drops the new database, then throws.
    private func undo(_ signal: Int32, during step: Step, running: [String], reopen: Bool, rolesCreated: String? = nil) async throws -> Never {
        var left: [String] = []
        if reopen {
            let opened = try? await runner.run(scripts.reopenLive())
            if opened?.succeeded != true { left.append(scripts.reopenCommand) }
        }
        do {
            try await startServices(running)
        } catch {
            left.append(ShellScript(argv: ["docker", "start"] + running).text)
        }
        let dropped = try? await runner.run(scripts.dropNew())
        if dropped?.succeeded != true { left.append(scripts.dropNewCommand) }
        let done = (reopen ? "\(scripts.live) takes connections again, " : "") + (running.isEmpty ? "" : "the services it stopped were started again, ") + "\(scripts.newName) was dropped"
        throw RestoreError.interrupted(signal: signal, step: step.rawValue,
                                       state: (left.isEmpty ? (rolesCreated == nil ? "nothing live changed: " : "") + "\(scripts.live) is as it was, \(done)"
                                                              : "\(scripts.live) was not swapped, but not everything was put back")
                                           + (rolesCreated.map { "; \($0) (they stay)" } ?? ""),
                                       advice: left.isEmpty ? ["botops verify"] : left + ["botops verify"])
    }

    /// What the host may be left with when botops loses it during `step` (the connection lost, or
    /// a third signal exiting at once), and the commands that repair it whether or not that step's
    /// command ran there (each is harmless when its part is already right).
    struct Repair {
        var state: String
        var advice: [String]
        var swapBack: [String] = []
        /// The services may be stopped or the swap done; else only the new database is left.
        var changed = true
    }

    func repair(during step: Step, stopped: [String]) -> Repair {
        let start = stopped.isEmpty ? [] : [ShellScript(argv: ["docker", "start"] + stopped).text]
        let live = scripts.live, new = scripts.newName, replaced = scripts.replacedName
        switch step {
        case .restore, .baseline:
            return Repair(state: "nothing live changed; \(new) is left, a pg_restore may still be filling it", advice: [scripts.dropNewCommand, "botops verify"], changed: false)
        case .stop, .close:
            return Repair(state: "\(live) was not swapped, but the services may be stopped" + (step == .close ? " and \(live) closed to connections" : "")
                            + " (the bot is down until the commands below run); \(new) is left",
                          advice: (step == .close ? [scripts.reopenCommand] : []) + start + [scripts.dropNewCommand, "botops verify"])
        case .swap:
            return Repair(state: "whether the rename happened is not known (it did if \(replaced) exists: then \(live) holds the backup); either way the services "
                            + "may be stopped and a database closed to connections (the bot is down until the commands below run)",
                          advice: [scripts.reopenCommand] + start + [scripts.dropNewCommand, "botops verify"], swapBack: scripts.swapBackCommands)
        case .start, .waitHealthy, .checks:
            return Repair(state: "the swap is complete: \(live) holds the backup and the previous database is \(replaced) (it stays); the services may not be running",
                          advice: start + ["botops verify"], swapBack: scripts.swapBackCommands)
        }
    }

    private func lost(_ error: RemoteError, during step: Step, stopped: [String]) -> RestoreError {
        let repair = repair(during: step, stopped: stopped)
        return .connectionLost(step: step.rawValue, detail: "\(error)", state: repair.state, advice: repair.advice, swapBack: repair.swapBack, changed: repair.changed)
    }

    /// What a third signal (botops exiting at once) leaves behind, and what repairs it.
    private func leftRunning(_ id: String, current: CurrentStep) -> String {
        let step = current.value, repair = repair(during: step, stopped: current.stopped)
        return "the restore of \(id), step \(step.rawValue): \(repair.state); give that step's command up to 2 minutes to end there (the restore step's pg_restore is ended by the first command). Next, run:\n  "
            + repair.advice.joined(separator: "\n  ")
            + (repair.swapBack.isEmpty ? "" : "\nTo put the previous database back instead, stop the services and run:\n  " + repair.swapBack.joined(separator: "\n  "))
    }

    /// An interruption after the swap: the backup is live and the services were started, not waited for.
    private func afterSwap(_ signal: Int32, during step: Step, services: [String]) -> RestoreError {
        .interrupted(signal: signal, step: step.rawValue,
                     state: "the swap is complete: \(scripts.live) holds the backup and the previous database is \(scripts.replacedName) (it stays); "
                        + (services.isEmpty ? "no service was running" : "\(services.joined(separator: ", ")) were started but not waited for"),
                     advice: ["botops verify"], swapBack: scripts.swapBackCommands)
    }

    private func startServices(_ containers: [String]) async throws {
        guard !containers.isEmpty else { return }
        let started = try await runner.run(RemoteCommand("docker start \(containers) >/dev/null", timeout: .seconds(120), effect: .changes("starts the services")))
        guard started.succeeded else { throw RestoreStepFailure("docker start failed: \(started.shownOutput)") }
    }

    /// Waits until the services are healthy; returns early on an interruption.
    private func waitHealthy(_ services: [String], interruption: Interruption, clock: ContinuousClock = ContinuousClock()) async throws {
        let containers = try await Deployer.containers(services, commands: commands, runner: runner)
        let probe = commands.containerStates(services.compactMap { containers[$0]?.container }, timeout: .seconds(30))
        var tracker = HealthTracker(stableFor: config.health.stableFor)
        let start = clock.now
        while interruption.signal == nil {
            var states: [String: HealthTracker.Observation] = [:]
            if !containers.isEmpty {
                for line in try await runner.run(probe).stdout.split(separator: "\n") {
                    if let observation = HealthTracker.Observation.parse(String(line)) { states[observation.id] = observation }
                }
            }
            var observations: [String: HealthTracker.Observation?] = [:]
            for service in services { observations[service] = .some(containers[service].flatMap { states[$0.container] }) }
            switch tracker.observe(observations, elapsed: clock.now - start) {
            case .healthy: return
            case .failed(let service, let reason): throw RestoreStepFailure("\(service) \(reason)")
            case .waiting(let state):
                if clock.now - start >= config.health.timeout { throw RestoreStepFailure("not healthy within \(seconds(config.health.timeout)): \(state)") }
            }
            try await clock.sleep(for: .milliseconds(250))
        }
    }
}

extension BackupCatalog.Entry {
    /// Refuses a backup whose dump on disk is missing or differs from its record (sha256).
    public func checkIntact(_ scripts: BackupScripts, runner: any CommandRunner) async throws {
        let sum = try await runner.run(scripts.checksum(record.id))
        guard sum.succeeded, sum.stdout.prefix(64) == record.sha256 else {
            throw RestoreError.damaged(id: record.id, detail: sum.succeeded ? "its sha256 differs from the record's" : sum.shownOutput)
        }
    }
}

/// The step a restore is in, read by the interruption handler on another task, and the one the
/// interruption came in (what the message names).
private final class CurrentStep: @unchecked Sendable {
    private let mutex = NSLock()
    private var step = RestoreJob.Step.restore
    private var during: RestoreJob.Step?
    private var containers: [String] = []
    private var filling = true
    var value: RestoreJob.Step {
        get { mutex.withLock { step } }
        set { mutex.withLock { step = newValue } }
    }

    /// Whether the restore into the new database is still running on the host.
    var restoring: Bool {
        get { mutex.withLock { filling } }
        set { mutex.withLock { filling = newValue } }
    }

    /// The containers the stop step stops (those running), which a repair starts again.
    var stopped: [String] {
        get { mutex.withLock { containers } }
        set { mutex.withLock { containers = newValue } }
    }

    var interrupted: RestoreJob.Step? { mutex.withLock { during } }

    /// Notes the interruption; returns the step it came in.
    func interrupt() -> RestoreJob.Step {
        mutex.withLock {
            if during == nil { during = step }
            return during!
        }
    }
}

struct RestoreStepFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
