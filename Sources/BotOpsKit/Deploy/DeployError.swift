import Foundation

/// Why a deploy or rollback did not start, or could not go on. Each message says what to do.
public enum DeployError: Error, Equatable, CustomStringConvertible, ExitCodeProviding {
    case lockHeld(LockHolder, stale: Bool)
    case dirtyCheckout(path: String, files: [String])
    case wrongBranch(path: String, current: String, target: String)
    case nonFastForward(branch: String, local: String, remote: String)
    case unknownRevision(String)
    case unknownService(names: [String], known: [String])
    case databaseNotDeclared(container: String, file: String)
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
        case .unknownService, .unknownRevision: return .usage
        case .hostCommandFailed, .lockToolMissing, .composeMissing, .composeConfigUnreadable: return .failed
        default: return .refused
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
            return "origin/\(branch) (\(remote.prefix(12))) does not contain the deployed \(local.prefix(12)): history was rewritten. botops only fast-forwards; deploy the new history explicitly with --ref \(remote.prefix(12)) if that is intended."
        case let .unknownRevision(ref):
            return "no branch or revision '\(ref)' in the checkout or on origin. Push it first, or check the name."
        case let .unknownService(names, known):
            return "unknown service\(names.count > 1 ? "s" : "") \(names.joined(separator: ", ")); the compose file declares: \(known.joined(separator: ", "))"
        case let .databaseNotDeclared(container, file):
            return "\(file) no longer declares the database service '\(container)' with an external volume; deploying it would orphan the data. Restore the db service and its external volume first."
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
            return "a command of an earlier deploy still runs on the host (\(command)): its botops was interrupted or lost the connection. Wait for it (--lock-wait 10m), then deploy; the next deploy verifies before and after."
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
