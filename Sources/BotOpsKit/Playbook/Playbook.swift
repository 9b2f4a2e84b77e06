import Foundation

/// An ordered list of steps read from `playbooks/deploy.yml` or `playbooks/rollback.yml`, or the
/// copy of the shipped one built into botops. The format is documented in playbooks/README.md.
public struct Playbook: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case deploy, rollback

        /// The built-in steps this kind of playbook may use, and those it must contain.
        var allowed: [BuiltinStep] {
            switch self {
            case .deploy: return [.lock, .preflight, .baseline, .keepImage, .checkout, .stop, .waitHealthy, .checks]
            case .rollback: return [.lock, .checkout, .restoreImage, .stop, .waitHealthy, .checks]
            }
        }

        var required: [BuiltinStep] {
            switch self {
            case .deploy: return [.lock, .preflight, .keepImage, .checkout, .waitHealthy, .checks]
            case .rollback: return [.lock, .checkout, .restoreImage, .waitHealthy]
            }
        }
    }

    /// Where the steps came from, for `--dry-run`.
    public enum Origin: Sendable, Equatable {
        /// A file in botops.yml's playbooks directory.
        case file(String)
        /// The shipped playbook built into botops, used because this file does not exist.
        case builtIn(absent: String)
    }

    public var kind: Kind
    /// The name messages give for the playbook: its path, or `deploy.yml (built into botops)`.
    public var file: String
    public var steps: [PlaybookStep]
    public var origin: Origin
    /// What the operator should add to the file (a `run:` step that does not say what it
    /// touches), printed before a deploy or rollback runs; the playbook still runs.
    public var warnings: [String] = []

    /// "deploy.yml: /etc/botops/playbooks/deploy.yml", or "… built into botops (no …)".
    public var originDescription: String {
        switch origin {
        case .file(let path): return "\(kind.fileName): \(path)"
        case .builtIn(let absent): return "\(kind.fileName): built into botops (there is no \(absent))"
        }
    }
}

extension Playbook.Kind: CaseIterable {
    /// The playbook's file name in a playbooks directory.
    public var fileName: String { rawValue + ".yml" }
}

public struct PlaybookStep: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// A command template, run in the checkout.
        case run(PlaybookTemplate)
        case builtin(BuiltinStep)
    }

    public var name: String
    /// Where the step starts in its file, for messages.
    public var line: Int
    public var action: Action
    public var timeout: Duration
    /// Extra attempts after a failure (for steps that touch the network, such as fetch).
    public var retries: Int
    public var onFailure: OnFailure
    /// What the step changes on the host, for `--dry-run` and the audit; nil for a read-only step.
    public var changes: String?
    /// What a `run:` step declares it does to what runs (`touches:`); nil when it declares nothing.
    public var touches: Touches?

    /// A `run:` step's `touches:` value.
    public enum Touches: String, Sendable, CaseIterable {
        /// It starts or replaces the services' containers, as `up` does.
        case containers
        /// It changes nothing that runs (a build): an interruption stops it on the host.
        case nothingRunning = "nothing-running"
    }

    /// What the step does to the running services: declared by botops for a built-in step, by
    /// `touches:` for a `run:` step (never guessed from its name or command).
    public var effect: StepEffect {
        switch action {
        case .builtin(let builtin): return builtin.effect
        case .run:
            switch touches {
            case .containers: return .startsContainers
            case .nothingRunning: return .nothingRunning
            case nil: return .host
            }
        }
    }
}

/// What a step does to the running services, which decides how a failure or an interruption
/// after it is handled.
public enum StepEffect: Sendable, Equatable {
    /// Changes nothing running (a probe, a build, the checks): an interruption stops it on the host.
    case nothingRunning
    /// Changes the host but not the containers (the lock, the checkout, image tags, an undeclared
    /// `run:` step): it runs to its end when interrupted.
    case host
    /// Stops the services' containers: a failure from here on restarts them in the rollback.
    case stopsContainers
    /// Starts or replaces the services' containers: after it, the new containers run.
    case startsContainers

    /// Containers were stopped or replaced once a step with this effect started.
    public var touchesContainers: Bool { self == .stopsContainers || self == .startsContainers }
}

/// What a failed step leads to.
public enum OnFailure: String, Sendable, CaseIterable {
    /// Roll back what the deploy changed (nothing to do when nothing changed yet).
    case rollback
    /// Stop here without rolling back.
    case abort
    /// Report the failure and go on.
    case `continue`
}

/// Steps implemented by botops itself, because they judge what they see rather than run one command.
public enum BuiltinStep: String, Sendable, CaseIterable {
    /// Take the deploy lock on the host (released on every exit path).
    case lock
    /// Clean checkout on the target branch, known services, `db` and its external volume still
    /// declared, free disk, the target revision resolved and fast-forwardable.
    case preflight
    /// The nine checks before anything changes: failures already present do not count against the release.
    case baseline
    /// Tag each service's running image with its revision: the rollback target.
    case keepImage = "keep-image"
    /// Move the checkout to the target revision (fast-forward only on a branch).
    case checkout
    /// Point each service's image at its kept image again (rebuilding only when it is gone).
    case restoreImage = "restore-image"
    /// Stop the services' containers, timing the stop to name a service that ignores SIGTERM.
    case stop
    /// Running, not restarting, healthy if it has a healthcheck, for `health.stable_for`.
    case waitHealthy = "wait-healthy"
    /// The nine post-deploy checks.
    case checks

    var effect: StepEffect {
        switch self {
        case .preflight, .baseline, .waitHealthy, .checks: return .nothingRunning
        case .lock, .keepImage, .checkout, .restoreImage: return .host
        case .stop: return .stopsContainers
        }
    }
}
