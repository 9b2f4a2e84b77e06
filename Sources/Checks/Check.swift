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
    public var id: String
    public var title: String
    public var status: CheckStatus
    public var message: String
    public var evidence: [Evidence]
    public var duration: Duration
}

/// One post-deploy check (seed 000, "Verification Commands"). Checks read facts from the
/// context, which gathers them in as few round trips as it can, and judge them in `evaluate`-style
/// pure functions that unit tests can call directly.
public protocol Check: Sendable {
    var id: String { get }
    var title: String { get }
    /// Checks that must pass (or warn) first; if one does not, this one is skipped.
    var prerequisites: [String] { get }
    func run(in context: CheckContext) async throws -> Verdict
    /// Starts fetching, in the background, the read-only facts `run` will read.
    func prefetch(in context: CheckContext)
}

extension Check {
    public func prefetch(in context: CheckContext) {}
}

/// A check that judges one read-only fact gathered by the context: fetching it (early, in
/// `prefetch`) and running it are the same for all such checks; only `evaluate` differs.
protocol FactCheck: Check {
    associatedtype Fact: Sendable
    /// Reads the fact; the context fetches each kind of fact once per run.
    func fact(in context: CheckContext) async throws -> Fact
    func evaluate(_ fact: Fact, settings: CheckSettings) -> Verdict
}

extension FactCheck {
    /// Starts the fetch now, so probes overlap instead of queueing behind the checks that gate
    /// them; errors surface when `run` reads the fact.
    func prefetch(in context: CheckContext) {
        Task { _ = try? await fact(in: context) }
    }

    func run(in context: CheckContext) async throws -> Verdict {
        evaluate(try await fact(in: context), settings: context.settings)
    }
}

/// The nine checks, in the order seed 000 lists them.
public let allChecks: [any Check] = [
    CronScheduledCheck(),
    ScriptExecutableCheck(),
    QueriesPresentCheck(),
    DatabaseRunningCheck(),
    DatabaseConnectivityCheck(),
    ReportGenerationCheck(),
    ReportFileCheck(),
    TradeLinkageCheck(),
    SnapshotActiveCheck(),
]
