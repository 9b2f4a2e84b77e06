import Checks
import Cron
import Foundation
import HostCommands
import Remote

/// Reads the host for `botops status`: every probe starts at once over the one connection (the
/// container states and kept image ids follow the two probes that name them). It reuses deploy's,
/// the lock's, the audit's, cron's and the backup catalog's own probes; only the report file, the
/// state directory's disk and the host's botops version are read by a probe of its own.
public struct StatusReader: Sendable {
    public let config: BotOpsConfig
    public let runner: any CommandRunner
    /// crontab.d's entries: the managed cron entries status reports on.
    public let entries: [CronEntry]
    /// The instant cron fires are judged at (seconds since 1970, UTC): injected by tests.
    public let now: @Sendable () -> Int64
    public let localVersion: String

    public init(config: BotOpsConfig, runner: any CommandRunner, entries: [CronEntry], localVersion: String,
                now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.config = config
        self.runner = runner
        self.entries = entries
        self.localVersion = localVersion
        self.now = now
    }

    static let timeout: Duration = .seconds(30)

    public func read() async throws -> HostStatus {
        let clock = ContinuousClock()
        let start = clock.now
        let state = config.deploy.stateDirectory
        let commands = DeployCommands.readOnly(config)
        let instant = now()
        let extras = StatusExtras(config: config)
        async let preflight = runner.run(commands.preflightProbe(timeout: Self.timeout))
        async let containers = attempt { try await runner.run(containersAndStates(marker: commands.marker)) }
        async let lock = attempt { try await DeployLock(state: state, staleAfter: config.deploy.lockStaleAfter, runner: runner).status() }
        async let audit = attempt { try await AuditLog(state: state, runner: runner).read(last: 200) }
        async let cron = attempt { try await readCron(now: instant) }
        async let extraFacts = runner.run(extras.command(timeout: Self.timeout))
        async let backups = attempt { try await BackupCatalog(config: config, runner: runner).entries() }

        var problems: [String] = []
        let probed = try await preflight
        let checkoutFacts = CheckoutFacts.parse(probed.stdout, termination: probed.result.termination, marker: commands.marker,
                                              releasesFile: state.path + "/releases.json")
        let extraResult = try await extraFacts
        let facts = extras.parse(extraResult.stdout, localNow: Int(instant))
        if !extraResult.succeeded { problems.append("host files probe: \(extraResult.shownOutput.prefix(300))") }
        if !facts.hostClockRead {
            problems.append("host clock: unreadable (no seconds since 1970 printed); ages and read_at are by this machine's clock")
        }

        // Only releases recorded without their image's id need their kept tag looked up; the
        // containers' states came with the lookup.
        let tags = Array(Set(checkoutFacts.releases.services.values.flatMap { $0.filter { $0.imageID == nil }.map(\.image) })).sorted()
        let imageIDsProbe = commands.imageIDs(tags, timeout: Self.timeout)
        async let imageIDs = tags.isEmpty ? nil : runner.run(imageIDsProbe.command)
        let found = try await containers
        let sections = commands.marker.split((try? found.get())?.stdout ?? "")
        let running = Deployer.parseContainers((sections["services"] ?? []).joined(separator: "\n"), services: config.services)
            .mapValues { RunningContainerInfo(id: $0.container, imageID: $0.imageID, image: $0.imageName) }
        let observed = ContainerObservation.parse((sections["states"] ?? []).joined(separator: "\n"))
        let idOfTag = try (try await imageIDs).map { try imageIDsProbe.parse($0.result) } ?? [:]

        if case .failure(let error) = found { problems.append("containers: \(error)") }
        let services = config.services.map { service in
            container(service, running[service], observed: observed, releases: checkoutFacts.releases.services[service] ?? [],
                      idOfTag: idOfTag, now: facts.now)
        }
        let database = Self.databaseContainer(config.database.container, try? ContainerState.parse(sections: sections, now: facts.now))

        let lockStatus: HostStatus.Lock
        switch try await lock {
        case .success(.free(let interrupted)): lockStatus = HostStatus.Lock(state: "free", holder: nil, interrupted: interrupted)
        case .success(.held(let holder, let stale)): lockStatus = HostStatus.Lock(state: stale ? "stale" : "held", holder: holder, interrupted: nil)
        case .failure(let error):
            lockStatus = HostStatus.Lock(state: "unknown", holder: nil, interrupted: nil)
            problems.append("lock: \(error)")
        }
        var lastDeploy: HostStatus.LastDeploy?
        switch try await audit {
        case .success(let records):
            lastDeploy = records.last { ["deploy", "rollback"].contains($0.action) }.map {
                HostStatus.LastDeploy(time: $0.time, action: $0.action, result: $0.result, services: $0.services, to: $0.to, command: $0.command)
            }
        case .failure(let error): problems.append("audit: \(error)")
        }
        var cronRows: [HostStatus.CronEntryStatus] = []
        var cronProblem: String?
        switch try await cron {
        case .success(let rows): cronRows = rows
        case .failure(let error): cronProblem = "\(error)"
        }
        var newestBackup: HostStatus.Backup?
        switch try await backups {
        case .success(let entries): newestBackup = HostStatus.Backup.newestVerified(entries, now: facts.now)
        case .failure(let error): problems.append("backups: \(error)")
        }

        return HostStatus(
            destination: runner.destination, readAt: facts.now, durationMS: wholeMilliseconds(clock.now - start),
            services: services, database: database, checkout: checkoutFacts.checkout, releasesProblem: checkoutFacts.releasesProblem,
            lock: lockStatus, lastDeploy: lastDeploy,
            cron: cronRows, cronProblem: cronProblem, newestReport: facts.newestReport,
            newestVerifiedBackup: newestBackup,
            disk: checkoutFacts.disk + (facts.stateDisk.map { [$0] } ?? []),
            botops: HostStatus.Versions(local: localVersion, host: facts.hostVersion, hostUnlimited: facts.hostVersionUnlimited),
            problems: problems)
    }

    /// Each service's container as deploy finds it (`DeployCommands.serviceContainers`), then the
    /// states of those (deploy's reading) and of the database's (verify's, `ContainerState`) in the
    /// same command: a second round trip for the states would wait on the lookup.
    func containersAndStates(marker: SectionMarker) -> RemoteCommand {
        let lookup = config.services.map { service -> ShellScript in
            "id=$(\(ComposeInvocation.containers(of: service, path: config.path)) | head -n 1); ids=\"$ids $id\""
        }
        return RemoteCommand(ShellScript.lines(["ids="] + lookup + [
            marker.start("services"),
            "set -- $ids; [ $# -eq 0 ] || docker inspect -f \(DeployCommands.containerFormat) \"$@\"",
            marker.start("states"),
            "[ $# -eq 0 ] || docker inspect --type container -f \(DeployCommands.stateFormat) -- \"$@\" 2>/dev/null",
            ContainerState.script(container: config.database.container, marker: marker),
        ]), timeout: Self.timeout)
    }

    /// Transport failures end the read (exit 3); anything else is one probe's problem.
    private func attempt<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> Result<T, Error> {
        do {
            return .success(try await body())
        } catch let error as RemoteError where error.isUnreachable {
            throw error
        } catch let error as RemoteError {
            if case .connectionLost = error { throw error }
            return .failure(error)
        } catch {
            return .failure(error)
        }
    }

    private func readCron(now: Int64) async throws -> [HostStatus.CronEntryStatus] {
        guard !entries.isEmpty else { return [] }
        let host = CronHost(runner: runner, state: config.deploy.stateDirectory)
        let listing = try await CronService(host: host, destination: runner.destination, now: now).list(entries)
        let verdicts = await ScheduledRuns(entries: entries, appPath: config.path, now: now).check(on: runner)
        return listing.rows.map { row in
            let zone = row.entry.zone ?? listing.time.zone
            let verdict = verdicts.first { $0.entry == row.entry.name }
            let installed: String
            switch row.state {
            case .unchanged: installed = "installed"
            case .updated: installed = "differs"
            case .added, .removed: installed = "not-installed"
            case .adopted: installed = "adopted"
            }
            func moment(_ instant: Int64?) -> HostStatus.Moment? {
                instant.map { HostStatus.Moment(local: "\(zone.local(at: $0)) \(zone.identifier)", utc: formatUTC(Int($0))) }
            }
            return HostStatus.CronEntryStatus(name: row.entry.name, schedule: row.entry.schedule.text, zone: zone.identifier, installed: installed,
                                              next: moment(row.next), last: moment(row.previous),
                                              evidence: verdict?.status.rawValue, evidenceMessage: verdict?.message)
        }
    }

    private func container(_ service: String, _ found: RunningContainerInfo?, observed: [ContainerObservation],
                           releases: [Releases.Release] = [], idOfTag: [String: String] = [:], now: Int) -> HostStatus.Container {
        guard let found, let observation = observed.first(where: { $0.id == found.id }) else {
            return HostStatus.Container(service: service, state: "missing", lastVerified: false)
        }
        let imageID = found.imageID
        let release = releases.last { release in (release.imageID ?? idOfTag[release.image]).map { $0 == imageID } ?? false }
        return HostStatus.Container(
            service: service, container: String(found.id.prefix(12)), state: observation.status,
            health: observation.health.isEmpty ? nil : observation.health,
            uptimeSeconds: observation.status == "running" ? observation.startedAt.map { max(0, now - $0) } : nil,
            restarts: observation.restarts, imageID: imageID.map { String($0.prefix(19)) }, image: found.image,
            revision: release?.revision, lastVerified: release != nil && release == releases.last)
    }
}

extension StatusReader {
    /// The database container as status shows it; missing when docker could not inspect it (or
    /// the probe said nothing botops can read).
    static func databaseContainer(_ name: String, _ state: ContainerState?) -> HostStatus.Container {
        guard let state, state.inspectError == nil else {
            return HostStatus.Container(service: name, state: "missing", lastVerified: false)
        }
        return HostStatus.Container(
            service: name, container: String(state.id.prefix(12)), state: state.status, health: state.health,
            uptimeSeconds: state.status == "running" ? state.uptimeSeconds : nil, restarts: state.restarts, lastVerified: false)
    }
}

struct RunningContainerInfo {
    var id: String
    var imageID: String?
    var image: String?
}

/// One line of `DeployCommands.containerStates`, with the start time the deploy's health
/// tracker does not need.
struct ContainerObservation: Equatable {
    var id: String
    var status: String
    var health: String
    var restarts: Int
    var startedAt: Int?

    static func parse(_ output: String) -> [ContainerObservation] {
        output.split(separator: "\n").compactMap { line in
            guard let base = HealthTracker.Observation.parse(String(line)) else { return nil }
            let startedAt = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst(5).first.flatMap { parseUTC(String($0)) }
            return ContainerObservation(id: base.id, status: base.restarting ? "restarting" : base.status, health: base.health,
                                        restarts: base.restarts, startedAt: startedAt)
        }
    }
}
