import Checks
import Cron
import Foundation
import HostCommands
import Remote

/// One gate's verdict: whether a deploy may start, as far as this gate can tell.
public struct GateVerdict: Sendable, Equatable {
    public enum Name: String, Sendable, CaseIterable {
        case blackout
        case cleanCheckout = "clean-checkout"
        case branch
        case services
        case deployLock = "deploy-lock"
        case hostReachable = "host-reachable"
        case checks
    }

    public enum Status: String, Sendable {
        case pass, fail, skip
    }

    public let name: Name
    public let status: Status
    public let message: String
    /// A failed gate of another kind that deploy refuses rather than runs (the database down in its baseline).
    let refusedByDeploy: Bool
    /// Not judged because the connection was lost meanwhile: host-reachable fails instead (exit 3).
    let lostConnection: RemoteError?

    public init(_ name: Name, _ status: Status, _ message: String, refusedByDeploy: Bool = false, lostConnection: RemoteError? = nil) {
        self.name = name
        self.status = status
        self.message = message
        self.refusedByDeploy = refusedByDeploy
        self.lostConnection = lostConnection
    }

    /// The verdict of a gate whose host command threw: the connection lost is no refusal of this
    /// gate (the host never answered it), as deploy exits 3 then; any other error fails it.
    static func failed(_ name: Name, _ message: String, _ error: Error) -> GateVerdict {
        if let remote = error as? RemoteError, remote.isUnreachable {
            return GateVerdict(name, .skip, "not judged: the connection was lost", lostConnection: remote)
        }
        return GateVerdict(name, .fail, message)
    }

    /// A failed blackout, checkout, branch, services or lock gate refuses the deploy (exit 4), as deploy does.
    var refuses: Bool {
        status == .fail && (refusedByDeploy || [.blackout, .cleanCheckout, .branch, .services, .deployLock].contains(name))
    }
}

/// `botops gate`'s outcome: every gate's verdict and the nine checks' report.
public struct GateReport: Sendable {
    public let destination: String
    public let service: String?
    public let at: Int64
    public let verdicts: [GateVerdict]
    public let checks: VerifyReport?

    /// 4 refused (blackout, dirty checkout, branch, services, lock held) · 3 unreachable · 1 a check failed · 0 go.
    public var exitCode: BotOpsExitCode {
        if verdicts.contains(where: \.refuses) { return .refused }
        if verdicts.contains(where: { $0.name == .hostReachable && $0.status == .fail }) { return .unreachable }
        if verdicts.contains(where: { $0.status == .fail }) { return .failed }
        return .success
    }

    public var outcome: String {
        switch exitCode {
        case .success: return "go"
        case .refused: return "refused"
        case .unreachable: return "unreachable"
        default: return "failed"
        }
    }
}

/// Decides whether a deploy may start now: outside every blackout window, on a clean checkout,
/// with the deploy lock free, the host reachable, and the nine checks passing.
public struct Gate: Sendable {
    public let config: BotOpsConfig
    public let entries: [CronEntry]
    public let service: String?
    /// The instant judged (seconds since 1970, UTC): now, or injected.
    public let at: Int64
    public let checkTimeout: Duration
    /// `deploy --strict`: checks failing before the deploy count too.
    public let strict: Bool

    public init(config: BotOpsConfig, entries: [CronEntry], service: String?, at: Int64, checkTimeout: Duration = .seconds(60), strict: Bool = false) {
        self.config = config
        self.entries = entries
        self.service = service
        self.at = at
        self.checkTimeout = checkTimeout
        self.strict = strict
    }

    /// Runs every gate it can. `connect` failing makes the host unreachable; the gates that need
    /// the host are then skipped, the blackout is still judged (in UTC for entries without a zone).
    public func run(destination: String, connect: () async throws -> any CommandRunner) async -> GateReport {
        var verdicts: [GateVerdict] = []
        let host: (any CommandRunner)?
        do {
            host = try await connect()
        } catch {
            host = nil
            verdicts.append(blackout(hostZone: nil))
            verdicts.append(GateVerdict(.hostReachable, .fail, "\(error)"))
            for name in [GateVerdict.Name.cleanCheckout, .branch, .services, .deployLock, .checks] {
                verdicts.append(GateVerdict(name, .skip, "the host cannot be reached"))
            }
            return GateReport(destination: destination, service: service, at: at, verdicts: verdicts, checks: nil)
        }
        guard let host else { return GateReport(destination: destination, service: service, at: at, verdicts: verdicts, checks: nil) }
        do {
            verdicts.append(blackout(hostZone: try await BlackoutGuard.hostZone(for: entries, host: host, state: config.deploy.stateDirectory)))
        } catch let remote as RemoteError where remote.isUnreachable {
            // Lost while reading the zone: judged as when the host cannot be reached.
            let verdict = blackout(hostZone: nil)
            verdicts.append(GateVerdict(.blackout, verdict.status, verdict.message, lostConnection: remote))
        } catch {
            // As deploy: a window that cannot be judged refuses.
            verdicts.append(GateVerdict(.blackout, .fail, "\(error)"))
        }
        verdicts.append(GateVerdict(.hostReachable, .pass, "connected to \(host.destination)"))
        verdicts += await checkout(host)
        verdicts.append(await services(host))
        verdicts.append(await lock(host))
        let verification: Verification
        do {
            verification = try Verification(config: config, timeout: checkTimeout)
        } catch {
            verdicts.append(GateVerdict(.checks, .fail, "\(error)"))
            return GateReport(destination: host.destination, service: service, at: at, verdicts: Self.lostConnection(verdicts), checks: nil)
        }
        let report = await verification.checks(on: host)
        verdicts.append(checks(report))
        return GateReport(destination: host.destination, service: service, at: at, verdicts: Self.lostConnection(verdicts), checks: report)
    }

    /// Host-reachable fails (exit 3) when a gate lost the connection; refusals stay those the host answered.
    static func lostConnection(_ verdicts: [GateVerdict]) -> [GateVerdict] {
        guard let first = verdicts.first(where: { $0.lostConnection != nil }), let lost = first.lostConnection, let index = verdicts.firstIndex(where: { $0.name == .hostReachable }) else { return verdicts }
        var verdicts = verdicts
        verdicts[index] = GateVerdict(.hostReachable, .fail, "connection lost during the \(first.name.rawValue) gate: \(lost)")
        return verdicts
    }

    /// The blackout windows at `at`. `hostZone` nil (the host cannot be reached): only the entries
    /// with a CRON_TZ of their own are judged; the others are named, never judged in UTC.
    func blackout(hostZone: CronZone?) -> GateVerdict {
        let judged = hostZone == nil ? entries.filter { $0.zone != nil } : entries
        let zone = hostZone ?? .utc
        if let window = activeBlackout(judged, at: at, hostZone: zone) {
            return GateVerdict(.blackout, .fail, "inside a blackout window: \(window.description)")
        }
        let upcoming = judged.filter { $0.blackoutSeconds != nil }.compactMap { entry -> (CronEntry, Int64)? in
            entry.schedule.next(after: at, in: entry.zone ?? zone).map { (entry, $0) }
        }.min { $0.1 < $1.1 }
        var message = "clear"
        if let (entry, fire) = upcoming {
            let entryZone = entry.zone ?? zone
            message += "; next window: \(entry.name) fires at \(entryZone.local(at: fire)) \(entryZone.identifier)"
        }
        let unjudged = entries.filter { $0.blackoutSeconds != nil && !judged.contains($0) }.map(\.name)
        if !unjudged.isEmpty {
            message += " (not judged: \(unjudged.joined(separator: ", ")) fire\(unjudged.count == 1 ? "s" : "") in the host's time zone, which is unknown while the host cannot be reached)"
        }
        return GateVerdict(.blackout, .pass, message)
    }

    /// The checks as deploy judges them: a check already failing before a deploy is its baseline,
    /// which deploy tolerates (only new failures roll back), unless `--strict`; but the database
    /// not running is refused (deploy's `--unverified` aside).
    func checks(_ report: VerifyReport) -> GateVerdict {
        let failing = report.results.filter { $0.status == .fail }
        let warned = report.count(.warn) > 0 ? " (\(report.count(.warn)) warn)" : ""
        // As deploy: a connection lost during the checks is exit 3 before any failure is judged.
        if let lost = report.connectionLost { return GateVerdict(.checks, .skip, "not judged: the connection was lost", lostConnection: lost) }
        guard !failing.isEmpty else { return GateVerdict(.checks, .pass, "\(report.results.count) checks pass\(warned)") }
        if let database = failing.first(where: { $0.id == .dbRunning }) {
            return GateVerdict(.checks, .fail, "deploy would refuse: \(DeployError.databaseDownBeforeDeploy(database.message))", refusedByDeploy: true)
        }
        let listed = failing.map { "\($0.id.rawValue): \($0.message)" }.joined(separator: "; ")
        if strict { return GateVerdict(.checks, .fail, listed) }
        return GateVerdict(.checks, .pass, "\(report.results.count - failing.count) pass; \(failing.count) already failing, which deploy tolerates (only new failures roll it back; --strict counts them): \(listed)")
    }

    /// Clean checkout and branch, from one probe: deploy refuses a dirty checkout, and one not on
    /// botops.yml's branch (a detached revision included).
    func checkout(_ host: any CommandRunner) async -> [GateVerdict] {
        do {
            let reading = try await DeployCommands.readOnly(config).gitStateProbe(timeout: .seconds(30)).run(on: host)
            try reading.requireGit(GitRead.preflight, path: config.path)
            return [clean(reading.changed), branch(reading.branch, head: reading.head)]
        } catch {
            let failure = "git status in \(config.path) failed: \(error)"
            return [GateVerdict.failed(.cleanCheckout, failure, error), GateVerdict(.branch, .skip, failure)]
        }
    }

    func clean(_ changed: [String]) -> GateVerdict {
        guard !changed.isEmpty else { return GateVerdict(.cleanCheckout, .pass, "\(config.path) has no uncommitted changes") }
        let shown = changed.prefix(5).joined(separator: ", ") + (changed.count > 5 ? ", …" : "")
        return GateVerdict(.cleanCheckout, .fail, "\(config.path) has \(changed.count) uncommitted change\(changed.count == 1 ? "" : "s"): \(shown). Commit or discard them (git stash) before deploying.")
    }

    /// Deploy (without --ref) refuses a checkout on another branch or a detached revision.
    func branch(_ current: String?, head: String) -> GateVerdict {
        if current == config.branch { return GateVerdict(.branch, .pass, "on \(config.branch)") }
        let now = current.map { "on branch \($0)" } ?? "on a detached revision (\(head.prefix(12)))"
        return GateVerdict(.branch, .fail, "\(config.path) is \(now), not \(config.branch): deploy would refuse. Check out \(config.branch) on the host (git checkout \(config.branch)).")
    }

    /// The services a deploy would deploy (`--service`, else botops.yml's), judged by deploy's own
    /// read-only preflight: each is a service of the resolved compose file and not the database
    /// (and the disk has room, as deploy requires).
    func services(_ host: any CommandRunner) async -> GateVerdict {
        let names = service.map { [$0] } ?? config.services
        do {
            try await Deployer.preflight(names, config: config, runner: host, timeout: checkTimeout)
            return GateVerdict(.services, .pass, "\(names.joined(separator: ", ")) in the compose file, as deploy requires")
        } catch {
            return GateVerdict.failed(.services, "deploy would refuse: \(error)", error)
        }
    }

    func lock(_ host: any CommandRunner) async -> GateVerdict {
        let lock = DeployLock(config, runner: host)
        do {
            switch try await lock.status() {
            case .free:
                return GateVerdict(.deployLock, .pass, "free")
            case .held(let holder, let stale):
                let who = holder?.summary ?? "an unknown holder"
                return GateVerdict(.deployLock, .fail, "held by \(who)\(stale ? " (stale: no progress recorded lately; botops lock status)" : "")")
            }
        } catch {
            return GateVerdict.failed(.deployLock, "cannot read the lock: \(error)", error)
        }
    }
}
