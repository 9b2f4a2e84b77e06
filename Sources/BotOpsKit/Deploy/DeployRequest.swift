/// What the operator asked for: `botops deploy` or `botops rollback` with their flags.
public struct DeployRequest: Sendable, Equatable {
    /// Services to deploy; empty means all of botops.yml's `services`.
    public var services: [String]
    /// `--ref`: a branch (fast-forwarded) or a revision; nil deploys botops.yml's `branch`.
    public var ref: String?
    public var dryRun = false
    public var noRollback = false
    /// Every check failure after the deploy rolls back, even one that was failing before.
    public var strict = false
    /// `--unverified`: deploy although the database is down before it (the checks that need it
    /// are skipped, so the release is recorded unverified).
    public var unverified = false
    public var lockWait: Duration?
    /// The command line, for the lock holder record and the audit.
    public var command: String

    public init(services: [String], ref: String? = nil, command: String) {
        self.services = services
        self.ref = ref
        self.command = command
    }
}

/// `botops rollback`: back to `to` (a branch, a revision, or nil for the previous good release).
public struct RollbackRequest: Sendable, Equatable {
    public var services: [String]
    public var to: String?
    public var lockWait: Duration?
    public var command: String

    public init(services: [String], to: String?, command: String) {
        self.services = services
        self.to = to
        self.command = command
    }
}
