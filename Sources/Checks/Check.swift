import Foundation
import HostCommands
import Remote

public enum CheckStatus: String, Sendable, Codable {
    case pass, warn, fail, skip
}

/// One named fact a check observed (the matched cron line, a file mode, a row count, …).
public struct Evidence: Sendable, Equatable, Codable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// What a check concluded, before the runner adds identity and timing.
public struct Verdict: Sendable, Equatable {
    public var status: CheckStatus
    public var message: String
    public var evidence: [Evidence]

    public static func pass(_ message: String, _ evidence: [Evidence] = []) -> Verdict {
        Verdict(status: .pass, message: message, evidence: evidence)
    }

    public static func warn(_ message: String, _ evidence: [Evidence] = []) -> Verdict {
        Verdict(status: .warn, message: message, evidence: evidence)
    }

    public static func fail(_ message: String, _ evidence: [Evidence] = []) -> Verdict {
        Verdict(status: .fail, message: message, evidence: evidence)
    }
}

public struct CheckResult: Sendable, Equatable {
    public var id: CheckID
    public var title: String
    public var status: CheckStatus
    public var message: String
    public var evidence: [Evidence]
    public var duration: Duration
}

/// The checks, as `--only`/`--skip` name them and reports show them, in the runbook's order.
/// Typed, so a prerequisite cannot name a check that does not exist.
public enum CheckID: String, CaseIterable, Sendable, Codable {
    case cronScheduled = "cron-scheduled"
    case scriptExecutable = "script-executable"
    case queriesPresent = "queries-present"
    case dbRunning = "db-running"
    case dbConnectivity = "db-connectivity"
    case reportGeneration = "report-generation"
    case reportFile = "report-file"
    case tradeLinkage = "trade-linkage"
    case snapshotActive = "snapshot-active"

    /// Parses a comma-separated list such as `db-running, report-file`; unknown ids are reported together.
    public static func list(_ text: String) throws -> [CheckID] {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let unknown = names.filter { CheckID(rawValue: $0) == nil }
        guard unknown.isEmpty else { throw CheckSelectionError(unknown: unknown) }
        return names.compactMap(CheckID.init(rawValue:))
    }

    /// The check this id names; the switch makes every id have one.
    var check: any Check {
        switch self {
        case .cronScheduled: CronScheduledCheck()
        case .scriptExecutable: ScriptExecutableCheck()
        case .queriesPresent: QueriesPresentCheck()
        case .dbRunning: DatabaseRunningCheck()
        case .dbConnectivity: DatabaseConnectivityCheck()
        case .reportGeneration: ReportGenerationCheck()
        case .reportFile: ReportFileCheck()
        case .tradeLinkage: TradeLinkageCheck()
        case .snapshotActive: SnapshotActiveCheck()
        }
    }
}

/// One post-deploy check from the operator's runbook ("Verification Commands"). Checks read facts
/// from the context, which gathers them in as few round trips as it can, and judge them in
/// `evaluate`-style pure functions that unit tests can call directly.
public protocol Check: Sendable {
    var id: CheckID { get }
    var title: String { get }
    /// Checks that must pass (or warn) first; if one does not, this one is skipped.
    var prerequisites: [CheckID] { get }
    func run(in context: CheckContext) async throws -> Verdict
    /// Starts, in the background, the work `run` will read, so probes overlap instead of queueing
    /// behind the checks that gate them. Work that changes the host must gate itself on the host.
    func prefetch(in context: CheckContext)
    /// The commands `run` sends (its facts' probes), for `verify --dry-run`.
    func commands(in probes: CheckProbes) -> [RemoteCommand]
}

extension Check {
    public func prefetch(in context: CheckContext) {}
}

/// A check that judges one read-only fact gathered by the context: fetching it (early, in
/// `prefetch`), running it and listing its command are the same for all such checks; only
/// `source` and `evaluate` differ.
protocol FactCheck: Check {
    associatedtype Fact: Sendable
    /// The run's probe of the fact; the context reads each kind of fact once per run.
    func source(in probes: CheckProbes) -> ProbedFact<Fact>
    func evaluate(_ fact: Fact, settings: CheckSettings) -> Verdict
}

extension FactCheck {
    /// Starts the fetch now, so probes overlap instead of queueing behind the checks that gate
    /// them; errors surface when `run` reads the fact.
    func prefetch(in context: CheckContext) {
        Task { _ = try? await context.fact(source(in: context.probes)) }
    }

    func run(in context: CheckContext) async throws -> Verdict {
        evaluate(try await context.fact(source(in: context.probes)), settings: context.settings)
    }

    func commands(in probes: CheckProbes) -> [RemoteCommand] {
        [source(in: probes).probe.command]
    }
}

/// The nine checks, in the runbook's order.
public let allChecks: [any Check] = CheckID.allCases.map(\.check)
