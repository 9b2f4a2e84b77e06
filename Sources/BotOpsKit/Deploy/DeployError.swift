import Foundation

/// Why a deploy or rollback did not start, or could not go on. Each message says what to do.
public enum DeployError: Error, Equatable, CustomStringConvertible, ExitCodeProviding {
    case lockHeld(LockHolder, stale: Bool)
    case dirtyCheckout(path: String, files: [String])
    case wrongBranch(path: String, current: String, target: String)
    case nonFastForward(branch: String, local: String, remote: String)
    /// The host's branch has commits origin lacks, and origin has none it lacks: made on the host.
    case localCommits(branch: String, local: String, remote: String)
    case detachedCheckout(path: String, revision: String, target: String)
    case releasesUnreadable(file: String, detail: String)
    case noPreviousRelease(services: [String])
    case previousReleasesDiffer(services: [String], revisions: [String])
    case databaseDownBeforeDeploy(String)
    case stateDirectoryUnusable(String)
    case unknownRevision(String)
    case unknownService(names: [String], known: [String])
    case databaseNotRunning(container: String, state: String)
    /// `target` nil: the revision declares no database service.
    /// `targetDirectory`: the revision's PGDATA when it differs from the running container's.
    case databaseDataMoved(container: String, file: String, revision: String, running: DataMount, target: DataMount?, targetDirectory: String? = nil)
    /// The target revision tracks files that exist on the host outside git (the env file, ignored files).
    case tracksHostFiles(revision: String, files: [String])
    case lowDisk(path: String, freeBytes: Int64, neededBytes: Int64)
    case composeMissing
    case composeConfigUnreadable
    case composeConfigFailed(String)
    case hostCommandFailed(step: String, detail: String)
    case lockToolMissing(String)
    /// Another refusal (a blackout window judged once the lock is held), its message as given.
    case refused(String)
    /// A changing command of an earlier deploy still runs under the step lock.
    case stepStillRunning(String)
    case notHostFiles([String])

    public var exitCode: BotOpsExitCode {
        switch self {
        case .unknownService, .unknownRevision, .noPreviousRelease, .stateDirectoryUnusable: return .usage
        case .hostCommandFailed, .lockToolMissing, .composeMissing, .composeConfigUnreadable: return .failed
        default: return .refused
        }
    }

    /// The error in botops' own words, for the audit: without the command output some carry (compose's
    /// stderr, git's file list, cat's complaint), which may hold anything.
    public var auditDescription: String {
        switch self {
        case let .dirtyCheckout(path, files): return "the checkout \(path) has \(files.count) uncommitted change\(files.count == 1 ? "" : "s")"
        case .composeConfigFailed: return "`compose config` failed on the host"
        case let .hostCommandFailed(step, _): return "\(step) failed"
        case let .releasesUnreadable(file, _): return "cannot read \(file)"
        case .databaseDownBeforeDeploy: return "the database was not running before the deploy (db-running failed)"
        case let .notHostFiles(files): return "--host-files refused: \(files.count) other file\(files.count == 1 ? "" : "s") changed"
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
        case let .dirtyCheckout(path, files):
            return "the checkout \(path) has uncommitted changes; commit, stash or remove them first:\n" + files.map { "  \($0)" }.joined(separator: "\n")
        case let .wrongBranch(path, current, target):
            return "the checkout \(path) is on \(current), not \(target). Deploy that branch with --ref \(current), or switch back with: botops rollback --to \(target)"
        case let .nonFastForward(branch, local, remote):
            return "\(branch) on the host (\(local.prefix(12))) and origin/\(branch) (\(remote.prefix(12))) have diverged: each has commits the other lacks (commits made on the host, or origin's history rewritten). botops only fast-forwards: push or drop the host's commits, or deploy origin's history explicitly with --ref \(remote.prefix(12)) if that is intended."
        case let .localCommits(branch, local, remote):
            return "\(branch) on the host (\(local.prefix(12))) has commits that origin/\(branch) (\(remote.prefix(12))) does not: they were made on the host. Push them to origin (then deploy), or drop them (git -C PATH reset --hard origin/\(branch)) if they are not wanted."
        case let .detachedCheckout(path, revision, target):
            return "the checkout \(path) is at a detached revision \(revision.prefix(12)), not on \(target). Deploy that revision explicitly with --ref \(revision.prefix(12)), or go back to \(target) with: botops rollback --to \(target)"
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
        case let .databaseDownBeforeDeploy(detail):
            return "the database is not running before the deploy (db-running: \(detail)), so the checks that need it would be skipped and nothing could verify the release. Start it first (docker start / docker unpause), or deploy without verification with --unverified."
        case let .unknownRevision(ref):
            return "no branch or revision '\(ref)' in the checkout or on origin. Push it first, or check the name."
        case let .unknownService(names, known):
            return "unknown service\(names.count > 1 ? "s" : "") \(names.joined(separator: ", ")); the compose file declares: \(known.joined(separator: ", "))"
        case let .databaseNotRunning(container, state):
            return "the database container '\(container)' is needed running before a deploy, and \(state). botops never creates the database's first container: start the stack once by hand (compose up -d), or fix database.container in botops.yml."
        case let .databaseDataMoved(container, file, revision, running, target, targetDirectory):
            let what = target.map { mount in
                targetDirectory.map { "puts the database's data directory (PGDATA) at \($0), on \(mount)" } ?? "mounts the database's data from \(mount)"
            } ?? "declares no database service '\(container)'"
            return "\(file) at \(revision.prefix(12)) \(what), but the running '\(container)' container keeps its data on \(running): the next `compose up` would start the database on other, empty data. Keep the db service's data directory on \(running) (a named volume resolves to PROJECT_KEY, or give it `name:`; `external: true` works too)."
        case let .tracksHostFiles(revision, files):
            return "revision \(revision.prefix(12)) tracks files that exist on the host outside git (the env file, or ignored files): checking it out would overwrite them, and a rollback would delete them. Remove them from that revision (git rm --cached) and add them to .gitignore:\n" + files.map { "  \($0)" }.joined(separator: "\n")
        case let .lowDisk(path, free, needed):
            return "only \(formatBytes(free)) free on \(path) (need \(formatBytes(needed)) to build). Free space (docker image prune, old logs) or lower deploy.min_free_disk."
        case .composeMissing:
            return "neither `docker compose` nor `docker-compose` works on the host. Install one, or set compose.command in botops.yml."
        case .composeConfigUnreadable:
            return "`compose config` printed something botops cannot read as a compose file."
        case let .composeConfigFailed(detail):
            return "`compose config` failed: the compose file or env file is broken on the host (\(detail)). Fix it first."
        case let .hostCommandFailed(step, detail):
            return "\(step) failed: \(detail)"
        case let .notHostFiles(files):
            return "--host-files deploys only the report script, queries/ and crontab.d/, but these changed too; they are built into images, so deploy the services that use them with --service:\n" + files.map { "  \($0)" }.joined(separator: "\n")
        case let .refused(message):
            return message
        case let .stepStillRunning(command):
            return "a command of an earlier deploy or crontab change still runs on the host (\(command)): its botops was interrupted or lost the connection. Wait for it (deploy and rollback wait with --lock-wait 10m), then run the command again; the next deploy verifies before and after."
        case let .lockToolMissing(detail):
            return "cannot take the deploy lock: \(detail). botops uses flock(1) from util-linux on the host; install it."
        }
    }
}

func formatBytes(_ bytes: Int64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : "\(Int(value.rounded())) \(units[unit])"
}
