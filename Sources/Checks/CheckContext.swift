import Foundation
import HostCommands
import Remote

/// Shared by the checks of one run: the connection, the settings, and the facts gathered from the
/// host. Each kind of fact is read once, by its probe, however many checks read it, and the runner
/// asks for the read-only ones up front so they travel concurrently.
public final class CheckContext: Sendable {
    public let host: any CommandRunner
    public let settings: CheckSettings
    public let probes: CheckProbes

    /// `marker` starts the sections of every probe's output; unique per run by default, so that no
    /// file name or query output can be mistaken for one.
    public init(host: any CommandRunner, settings: CheckSettings, marker: SectionMarker = SectionMarker()) {
        self.host = host
        self.settings = settings
        probes = CheckProbes(settings, marker: marker)
    }

    /// The fact `source` reads, read from the host once per run.
    func fact<Fact>(_ source: ProbedFact<Fact>) async throws -> Fact {
        try await source.value(on: host)
    }
}

/// The probes of one run, each defined once from the settings and the run's marker; needs no
/// host, so `verify --dry-run` lists the very commands a run sends.
public final class CheckProbes: Sendable {
    let hostFacts: ProbedFact<HostFacts>
    let containerState: ProbedFact<ContainerState>
    let databaseFacts: ProbedFact<DatabaseFacts>
    /// Runs the report script (it writes a report), gated on the host by its prerequisites' facts.
    let reportRun: ProbedFact<ReportRun>

    public init(_ settings: CheckSettings, marker: SectionMarker = SectionMarker()) {
        hostFacts = ProbedFact(HostFacts.probe(settings, marker: marker))
        containerState = ProbedFact(ContainerState.probe(settings, marker: marker))
        databaseFacts = ProbedFact(DatabaseFacts.probe(settings, marker: marker))
        reportRun = ProbedFact(ReportRun.probe(settings, marker: marker))
    }
}

/// A probe and its one result per run; concurrent readers share the same in-flight read.
final class ProbedFact<Fact: Sendable>: Sendable {
    let probe: HostProbe<Fact>
    private let memo = Memo<Fact>()

    init(_ probe: HostProbe<Fact>) {
        self.probe = probe
    }

    func value(on host: any CommandRunner) async throws -> Fact {
        try await memo.value { [probe] in try await probe.run(on: host) }
    }
}

/// Computes a value once; concurrent callers share the same in-flight computation.
final class Memo<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<Value, Error>?

    func value(_ compute: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let task = lock.withLock {
            if let task = self.task { return task }
            let created = Task { try await compute() }
            self.task = created
            return created
        }
        return try await task.value
    }
}
