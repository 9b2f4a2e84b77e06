import Basics

/// The state directory, the deploy lock or a record in it (audit, releases) could not be used, or
/// says no. Each message says what to do; the messages are the ones deploy printed before the
/// host state had a module of its own.
public enum HostStateError: Error, Equatable, CustomStringConvertible, ExitCodeProviding {
    case lockHeld(LockHolder, stale: Bool)
    /// A changing command of an earlier deploy still runs under the step lock.
    case stepStillRunning(String)
    case lockToolMissing(String)
    case stateDirectoryUnusable(String)
    case releasesUnreadable(file: String, detail: String)
    case noPreviousRelease(services: [String])
    case previousReleasesDiffer(services: [String], revisions: [String])
    case hostCommandFailed(step: String, detail: String)

    public var exitCode: BotOpsExitCode {
        switch self {
        case .noPreviousRelease, .stateDirectoryUnusable: return .usage
        case .hostCommandFailed, .lockToolMissing: return .failed
        case .lockHeld, .stepStillRunning, .releasesUnreadable, .previousReleasesDiffer: return .refused
        }
    }

    /// The error in botops' own words, for the audit: without the host output some carry.
    public var auditDescription: String {
        switch self {
        case let .hostCommandFailed(step, _): return "\(step) failed"
        case let .releasesUnreadable(file, _): return "cannot read \(file)"
        default: return description
        }
    }

    public var description: String {
        switch self {
        case let .lockHeld(holder, stale):
            let state = stale
                ? "held by a deploy whose holder still runs but has recorded no progress, \(holder.idleText)"
                : "held"
            return "deploy lock \(state): \(holder.summary). Wait for it (--lock-wait 10m), or if that deploy is gone: botops lock release --force --reason TEXT"
        case let .releasesUnreadable(file, detail):
            return "cannot read \(file): \(detail). botops will not replace it with an empty record (the kept releases would be lost). Look at it, then move it aside (mv \(file) \(file).damaged) to start a new record; the kept image tags stay."
        case let .noPreviousRelease(services):
            return "no verified release recorded before the one \(services.joined(separator: ", ")) run\(services.count == 1 ? "s" : "") now; pass --to BRANCH or --to REVISION."
        case let .previousReleasesDiffer(services, revisions):
            return "the services share one checkout but their previous releases differ ("
                + zip(services, revisions).map { "\($0): \($1.prefix(12))" }.joined(separator: ", ")
                + "); roll them back one at a time with --service NAME --to REVISION."
        case let .stateDirectoryUnusable(path):
            return "the state directory \(path) cannot be created or written by the ssh user. Set state_dir in botops.yml to a directory it can write (for several users: one shared by a group, e.g. /var/lib/botops with mode 2770), or fix its owner."
        case let .hostCommandFailed(step, detail):
            return "\(step) failed: \(detail)"
        case let .stepStillRunning(command):
            return "a command of an earlier deploy or crontab change still runs on the host (\(command)): its botops was interrupted or lost the connection. Wait for it (every command that takes the deploy lock waits with --lock-wait 10m), then run the command again; the next deploy verifies before and after."
        case let .lockToolMissing(detail):
            return "cannot take the deploy lock: \(detail). botops uses flock(1) from util-linux on the host; install it."
        }
    }
}
