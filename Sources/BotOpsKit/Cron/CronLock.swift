import Foundation
import HostCommands
import Remote

/// Crontab changes take the deploy lock, and refuse at once while a deploy (or another crontab
/// change) holds it: the lock's refusal names the holder.
public struct DeployLockScope: CrontabChangeLock {
    let lock: DeployLock
    /// Told about the held lock, so the command lifecycle can release it on Ctrl-C too.
    let onAcquire: @Sendable (HeldLock) -> Void

    public init(lock: DeployLock, onAcquire: @escaping @Sendable (HeldLock) -> Void = { _ in }) {
        self.lock = lock
        self.onAcquire = onAcquire
    }

    public func withLock<T: Sendable>(purpose: String, _ body: @Sendable () async throws -> T) async throws -> T {
        let held = try await lock.acquire(as: .current(command: "botops \(purpose)", step: purpose), wait: nil)
        onAcquire(held)
        do {
            let value = try await body()
            await held.release()
            return value
        } catch {
            await held.release()
            throw error
        }
    }
}

/// One audit line for a crontab change, appended to the same `audit.jsonl` deploys write.
public struct CronAudit: Sendable {
    let runner: any CommandRunner
    let state: StateDirectory

    public init(runner: any CommandRunner, state: StateDirectory) {
        self.runner = runner
        self.state = state
    }

    /// Appends the record; a failure to append is returned as a notice, never thrown, so the
    /// crontab change it describes still reports its own outcome.
    public func append(action: String, command: String, result: String, reason: String? = nil, failure: String? = nil) async -> String? {
        var record = AuditRecord(action: action, command: command, result: result)
        record.reason = reason
        record.failure = failure
        do {
            try await AuditLog(state: state, runner: runner).append(record)
            return nil
        } catch {
            return "could not append to the audit log: \(error)"
        }
    }
}
