import Foundation
import Remote

/// Everything one verify run found: the checks' results and, beside them, the notes verify adds
/// (scheduled runs, backup age), which warn but are never checks. Every reporter renders this one
/// value; nothing reads a rendered report back.
public struct VerifyReport: Sendable {
    public var destination: String
    public var startedAt: Date
    public var duration: Duration
    public var results: [CheckResult]
    /// Set when the host went away during the run: the results are incomplete (exit code 3).
    public var connectionLost: RemoteError?
    /// One verdict per crontab.d entry with `expects`; empty when none is judged.
    public var scheduledRuns: [ScheduledRunVerdict]
    /// nil when the host does not use botops' backups.
    public var backupAge: BackupAgeVerdict?

    public init(destination: String, startedAt: Date, duration: Duration, results: [CheckResult], connectionLost: RemoteError? = nil,
                scheduledRuns: [ScheduledRunVerdict] = [], backupAge: BackupAgeVerdict? = nil) {
        self.destination = destination
        self.startedAt = startedAt
        self.duration = duration
        self.results = results
        self.connectionLost = connectionLost
        self.scheduledRuns = scheduledRuns
        self.backupAge = backupAge
    }

    public var failed: Bool { results.contains { $0.status == .fail } }

    public func count(_ status: CheckStatus) -> Int { results.filter { $0.status == status }.count }

    /// A failed check, a lost connection, a missed or erroring scheduled run, or a stale backup:
    /// what `--notify` reports. The notes never change the exit code.
    public var needsAttention: Bool {
        failed || connectionLost != nil || scheduledRuns.contains { $0.status == .warn } || backupAge?.status == .warn
    }
}

/// "Did the scheduled run happen?" for one crontab.d entry with `# botops: expects GLOB`, judged
/// by evidence only the scheduled run leaves (its own log written since the fire).
public struct ScheduledRunVerdict: Sendable, Equatable {
    public enum Status: String, Sendable { case pass, warn }

    public let entry: String
    public let status: Status
    public let message: String
    /// The fire judged (seconds since 1970, UTC); nil when the entry has not fired yet.
    public let lastFire: Int64?
    /// The newest matching output and the log line that looks like an error, when there are.
    public let output: String?
    public let logError: String?

    public init(entry: String, status: Status, message: String, lastFire: Int64?, output: String?, logError: String?) {
        self.entry = entry
        self.status = status
        self.message = message
        self.lastFire = lastFire
        self.output = output
        self.logError = logError
    }
}

/// How old the newest verified backup of the ledger is, against `backup.max_age`: a warning like a
/// missed scheduled run, never a tenth check.
public struct BackupAgeVerdict: Sendable, Equatable {
    public enum Status: String, Sendable { case pass, warn }

    public var status: Status
    public var message: String
    /// The newest verified backup's id and age in seconds, when there is one.
    public var newest: String?
    public var ageSeconds: Int?
    /// nil: `max_age: off`.
    public var maxAgeSeconds: Int?

    public init(status: Status, message: String, newest: String? = nil, ageSeconds: Int? = nil, maxAgeSeconds: Int? = nil) {
        self.status = status
        self.message = message
        self.newest = newest
        self.ageSeconds = ageSeconds
        self.maxAgeSeconds = maxAgeSeconds
    }
}
