import Basics
import Foundation
import HostCommands
import Remote

/// `audit.jsonl` in the state directory on the host: one JSON object per line, appended (one
/// `printf` write, so concurrent writers cannot interleave within a line), never rewritten.
public struct AuditLog: Sendable {
    let state: StateDirectory
    let runner: any CommandRunner

    public init(state: StateDirectory, runner: any CommandRunner) {
        self.state = state
        self.runner = runner
    }

    func appendCommand(_ record: AuditRecord) -> RemoteCommand {
        RemoteCommand("""
            (\(state.prepare) && printf '%s\\n' \(record.json) >> \(state.file("audit.jsonl")))
            """, timeout: .seconds(20), effect: .changes("appends a record to \(state.path)/audit.jsonl"))
    }

    public func append(_ record: AuditRecord) async throws {
        let result = try await runner.run(appendCommand(record))
        guard result.succeeded else {
            throw HostStateError.hostCommandFailed(step: "audit", detail: "cannot append to \(state.path)/audit.jsonl: \(result.shownOutput)")
        }
    }

    /// The newest `count` records, oldest first; lines that are not records are skipped.
    public func read(last count: Int) async throws -> [AuditRecord] {
        let result = try await runner.run(RemoteCommand("tail -n \(count) \(state.file("audit.jsonl")) 2>/dev/null; true", timeout: .seconds(20)))
        return result.stdout.split(separator: "\n").compactMap { AuditRecord.parse(String($0)) }
    }

    /// `botops lock release`: who broke the lock, whose it was, and why.
    public func recordLockRelease(removed: LockHolder?, reason: String, command: String) async throws {
        var record = AuditRecord(action: "lock-release", command: command, result: "released")
        record.reason = reason
        record.failure = removed.map { "lock was held by \($0.summary)" }
        try await append(record)
    }
}
