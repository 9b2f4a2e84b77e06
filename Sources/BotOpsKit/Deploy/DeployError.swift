import Foundation

/// Why a deploy or rollback did not start, or could not go on. Each message says what to do.
public enum DeployError: Error, Equatable, CustomStringConvertible, ExitCodeProviding {
    case dirtyCheckout(path: String, files: [String])
    case wrongBranch(path: String, current: String, target: String)
    case nonFastForward(branch: String, local: String, remote: String)
    /// The host's branch has commits origin lacks, and origin has none it lacks: made on the host.
    case localCommits(branch: String, local: String, remote: String)
    case detachedCheckout(path: String, revision: String, target: String)
    /// A git read of the checkout failed: nothing about it is known (clean, branch, revision).
    case gitFailed(path: String, command: String, status: String, stderr: String)
    case databaseDownBeforeDeploy(String)
    case unknownRevision(String)
    case unknownService(names: [String], known: [String])
    case databaseNotRunning(container: String, state: String)
    /// `target` nil: the revision declares no database service.
    /// `targetDirectory`: the revision's PGDATA when it differs from the running container's.
    case databaseDataMoved(container: String, file: String, revision: String, running: DataMount, target: DataMount?, targetDirectory: String? = nil)
    /// The target revision tracks files that exist on the host outside git (the env file, ignored files).
    case tracksHostFiles(revision: String, files: [String])
    case lowDisk(path: String, freeBytes: Int64, neededBytes: Int64)
    /// df printed no free space for a disk the deploy builds on (`disk` names it and how to read it).
    case diskUnreadable(disk: String)
    case composeMissing
    case composeConfigUnreadable
    case composeConfigFailed(String)
    case hostCommandFailed(step: String, detail: String)
    /// Another refusal (a blackout window judged once the lock is held), its message as given.
    case refused(String)
    case notHostFiles([String])
    /// The lock or a record in the state directory refused or failed during a step.
    case hostState(HostStateError)

    public var exitCode: BotOpsExitCode {
        switch self {
        case .unknownService, .unknownRevision: return .usage
        case let .hostState(error): return error.exitCode
        case .hostCommandFailed, .composeMissing, .composeConfigUnreadable: return .failed
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
        case let .gitFailed(path, command, status, _): return "git cannot read the checkout \(path) (`\(command)` exited \(status))"
        case .databaseDownBeforeDeploy: return "the database was not running before the deploy (db-running failed)"
        case let .hostState(error): return error.auditDescription
        case let .notHostFiles(files): return "--host-files refused: \(files.count) other file\(files.count == 1 ? "" : "s") changed"
        default: return description
        }
    }

    public var description: String {
        switch self {
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
        case let .gitFailed(path, command, status, stderr):
            let fix = stderr.contains("dubious ownership")
                ? "The checkout belongs to another user: trust it for the user botops connects as (git config --global --add safe.directory \(path)), or connect as the checkout's owner."
                : "Fix it so that `git -C \(path) status` works as the user botops connects as (or connect as the checkout's owner)."
            return "git cannot read the checkout \(path), so botops cannot tell whether it is clean or which revision it is at (`\(command)` exited \(status): \(stderr)). \(fix)"
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
        case let .diskUnreadable(disk):
            return "df could not read the disk of \(disk), so botops cannot tell whether a build fits. Run that df on the host to see why and fix it; to deploy without judging free space, set deploy.min_free_disk: 0."
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
        case let .hostState(error):
            return error.description
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
