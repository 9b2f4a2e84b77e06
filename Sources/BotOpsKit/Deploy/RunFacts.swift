import Checks
import HostState

/// A fact one step produces and later steps consume, instead of a field anyone may set. Its
/// producer calls `produce`, naming itself: any other producer is refused (botops' own bug, named
/// with both producers), so two steps can never write one fact. The same producer may produce it
/// again: a retried step runs again from its start. A step that needs it reads `value()`, which fails the step with a
/// message naming the producer when that step has not run (a playbook that orders its built-in
/// steps so, or botops' own bug; never a host state). Messages and the audit, which may be
/// written before any step ran, read `ifProduced`.
struct Produced<Value> {
    /// Who produces the fact, for the message.
    let producer: FactProducer
    private(set) var ifProduced: Value?

    init(by producer: FactProducer) {
        self.producer = producer
    }

    mutating func produce(_ value: Value, by writer: FactProducer) throws {
        guard writer == producer else {
            throw Deployer.StepFailure(message: "botops bug: \(writer.named) produced \(Value.self), which only \(producer.named) produces: please report it", refusal: nil)
        }
        ifProduced = value
    }

    /// For a fact its step produces service by service: changes what is there (what an earlier
    /// run of the same step produced, say the deploy's stop before its rollback's), or `empty`.
    mutating func update(from empty: @autoclosure () -> Value, by writer: FactProducer, _ change: (inout Value) -> Void) throws {
        var value = ifProduced ?? empty()
        change(&value)
        try produce(value, by: writer)
    }

    func value() throws -> Value {
        guard let ifProduced else {
            switch producer {
            case .step(let step):
                // The parser refuses a playbook that orders its built-in steps so: left is a step
                // that failed under `on_failure: continue`, or botops' own bug.
                throw Deployer.StepFailure(message: "botops read \(Value.self) before step \(step.rawValue) produced it: the playbook must run 'builtin: \(step.rawValue)' before this step, and it must not fail (if it did neither, this is a botops bug: please report it)", refusal: nil)
            case .command(let reading):
                throw Deployer.StepFailure(message: "botops read \(Value.self) before \(reading) produced it: this is a botops bug, please report it", refusal: nil)
            }
        }
        return ifProduced
    }
}

/// Who produces a fact: a built-in step of the playbook, or a command's own reading of the host
/// before its playbook runs (`botops rollback` resolves `--to` and reads the running containers
/// before its steps; the dry run reads what the steps would). Chosen once per run, by its action.
enum FactProducer: Equatable, CustomStringConvertible {
    case step(BuiltinStep)
    case command(String)

    var description: String {
        switch self {
        case .step(let step): return step.rawValue
        case .command(let reading): return reading
        }
    }

    /// As a message names it: "step preflight", or the command's reading.
    var named: String {
        switch self {
        case .step(let step): return "step \(step.rawValue)"
        case .command(let reading): return reading
        }
    }
}

/// The checkout before anything changed: produced by `builtin: preflight` (and by the same
/// reading `botops rollback` and the dry run make).
struct CheckoutBefore: Equatable {
    /// nil: a detached checkout.
    var branch: String?
    var revision: String
}

/// The running stack, produced by `builtin: preflight`: the database container (its data must
/// stay where it is) and compose's reading of the checkout's compose file.
struct RunningStack {
    var database: RunningDatabase
    var project: ComposeProject
}

/// Produced by `builtin: keep-image`: per service, the tag that keeps its running image (the
/// rollback target), and the release that image is (recorded before, or kept by this run).
struct KeptImages: Equatable {
    var tags: [String: String] = [:]
    var releases: [String: Releases.Release] = [:]
}

/// Produced by `builtin: baseline`: the checks already failing or skipped before anything changed.
struct Baseline: Equatable {
    var failures: Set<CheckID>
    var skipped: Set<CheckID>
}

/// Produced by `builtin: checks`: what the checks after the change left unverified.
struct ChecksVerdict: Equatable {
    /// Checks skipped after the deploy: the release is unverified.
    var skipped: [CheckID]
    /// Checks failing after the deploy that were failing before it too: tolerated, not passed.
    var failingAsBefore: [CheckID]

    /// Why the checks after the deploy do not vouch for the release (nil: every check passed):
    /// a check skipped, or one failing as it was before the deploy (tolerated, never passed).
    var unverifiedReason: String? {
        func listed(_ ids: [CheckID], _ what: String) -> String? {
            ids.isEmpty ? nil : "\(ids.count) check\(ids.count == 1 ? "" : "s") \(what) (\(ids.map(\.rawValue).joined(separator: ", ")))"
        }
        let reasons = [listed(skipped, "skipped"), listed(failingAsBefore, "failing as before the deploy")].compactMap { $0 }
        return reasons.isEmpty ? nil : "unverified: " + reasons.joined(separator: "; ")
    }
}

/// Produced by `builtin: wait-healthy`: per service, the container and image that passed, and
/// the downtime from the stop to healthy (kept across the deploy's and its rollback's waits).
struct HealthyContainers {
    var containers: [String: Deployer.RunningContainer] = [:]
    var downtime: [String: Duration] = [:]
}

/// Produced by `builtin: stop`, service by service: the image each service's name pointed at just
/// before the stop (which `up` must start), and when its stop began (its downtime's start).
struct StoppedServices {
    var imagesToStart: [String: String] = [:]
    var started: [String: ContinuousClock.Instant] = [:]
}
