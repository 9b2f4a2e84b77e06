import Foundation
import HostCommands
import Remote

/// Crontab changes take the deploy lock, and refuse at once while a deploy (or another crontab
/// change) holds it: the lock's refusal names the holder. Taken through the command's session,
/// which releases it on every way out; an interrupted change finishes its write first (the
/// lifecycle waits for it), so nothing is written after the lock is gone.
public struct DeployLockScope: CrontabChangeLock {
    let session: CommandSession
    let wait: Duration?

    public init(session: CommandSession, wait: Duration? = nil) {
        self.session = session
        self.wait = wait
        // A crontab change is a few short commands: it is waited for, never abandoned mid-write.
        session.interruption.onRequest(stillRunning: { "the crontab write, if it had started" }) { _ in }
    }

    public func withLock<T: Sendable>(purpose: String, _ body: @Sendable () async throws -> T) async throws -> T {
        let held = try await session.acquireDeployLock(as: .current(command: "botops \(purpose)", step: purpose), wait: wait)
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

extension CommandSession {
    /// The deploy lock for crontab changes.
    public func cronLock(wait: Duration? = nil) -> DeployLockScope {
        DeployLockScope(session: self, wait: wait)
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
