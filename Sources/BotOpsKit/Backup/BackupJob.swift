import Foundation
import HostCommands
import Remote

/// Why a backup did not happen or did not prove good; the message says what to do.
public enum BackupError: Error, Equatable, CustomStringConvertible, ExitCodeProviding {
    case insideCheckout(directory: String, checkout: String)
    case lowDisk(directory: String, freeBytes: Int64, neededBytes: Int64)
    case dumpFailed(String)
    case verificationFailed(id: String, problems: [String])
    case hostCommandFailed(step: String, detail: String)

    public var exitCode: BotOpsExitCode {
        switch self {
        case .insideCheckout: return .usage
        case .lowDisk: return .refused
        case .dumpFailed, .verificationFailed, .hostCommandFailed: return .failed
        }
    }

    public var description: String {
        switch self {
        case let .insideCheckout(directory, checkout):
            return "backup.dir \(directory) is inside the checkout \(checkout), where an image build would copy the ledger into the image. Set backup.dir in botops.yml to a directory outside it."
        case let .lowDisk(directory, free, needed):
            return "refused: \(formatBytes(free)) free on the disk of \(directory), a backup needs \(formatBytes(needed)) (backup.min_free_disk plus the last dump's size); filling that disk can stop PostgreSQL. Free space, or lower backup.min_free_disk."
        case let .dumpFailed(detail):
            return "backup failed, nothing was kept: \(detail)"
        case let .verificationFailed(id, problems):
            return "backup \(id) failed verification (marked failed; do not rely on it): " + problems.prefix(10).joined(separator: "; ")
        case let .hostCommandFailed(step, detail):
            return "\(step) failed on the host: \(detail)"
        }
    }
}

/// One `botops backup`: dump with figures, record, and (unless told not to) the throwaway
/// restore that proves the dump. The caller holds the deploy lock.
public struct BackupJob: Sendable {
    public let scripts: BackupScripts
    public let settings: BackupSettings
    public let runner: any CommandRunner

    public init(config: BotOpsConfig, runner: any CommandRunner) {
        scripts = BackupScripts(config: config)
        settings = config.backup
        self.runner = runner
    }

    /// Refuses a backup.dir inside the checkout or on a disk without room.
    public func preflight() async throws {
        let result = try await runner.run(scripts.preflight())
        guard result.succeeded else { throw BackupError.hostCommandFailed(step: "backup preflight", detail: result.shownOutput) }
        let facts = BackupFigures(parsing: result.stdout).facts
        if let checkout = facts["inside"] {
            throw BackupError.insideCheckout(directory: scripts.directory.path, checkout: checkout)
        }
        let free = Int64(facts["free"] ?? "") ?? 0, last = Int64(facts["last"] ?? "") ?? 0
        let needed = settings.minFreeDiskBytes + last
        if free < needed {
            throw BackupError.lowDisk(directory: facts["dir"] ?? scripts.directory.path, freeBytes: free, neededBytes: needed)
        }
    }

    /// Dumps and records the backup `id`; then verifies it when `verify`. Returns the final record;
    /// throws after recording a failed verification.
    public func run(id: BackupID, keep: Bool, verify: Bool, progress: @Sendable (String) -> Void = { _ in }) async throws -> BackupRecord {
        try await preflight()
        progress("dumping \(scripts.database) from the \(scripts.container) container")
        let dumped = try await runner.run(scripts.dump(id))
        guard dumped.succeeded else {
            throw BackupError.dumpFailed(dumped.result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines).nonEmpty
                                         ?? "the dump ended with \(dumped.result.termination)")
        }
        let figures = BackupFigures(parsing: dumped.stdout)
        var record = BackupRecord(
            id: id, database: scripts.database, serverVersion: figures.facts["server_version"] ?? "",
            size: Int64(figures.facts["size"] ?? "") ?? 0, sha256: figures.facts["sha256"] ?? "", tocDigest: figures.facts["toc"] ?? "",
            status: .unverified, statusReason: verify ? "verification did not finish" : "taken with --no-verify",
            keep: keep, tables: figures.tables, sequences: figures.sequences)
        try await write(record)
        guard verify else { return record }

        progress("verifying: restoring \(id.text).dump into a throwaway server")
        switch try await self.verify(id, against: figures) {
        case .verified:
            record.status = .verified
            record.statusReason = nil
            try await write(record)
            return record
        case .unverified(let reason):
            record.statusReason = reason
            try await write(record)
            return record
        case .failed(let image, let problems):
            record.status = .failed
            record.statusReason = "verification in a throwaway server from \(image): " + problems.prefix(10).joined(separator: "; ")
            try await write(record)
            throw BackupError.verificationFailed(id: id.text, problems: problems)
        }
    }

    public enum VerifyOutcome: Sendable, Equatable {
        case verified
        /// No throwaway server could start; why.
        case unverified(String)
        /// The image used, and what differed or failed.
        case failed(image: String, problems: [String])
    }

    /// Restores `ID.dump` into a throwaway server and compares its figures with `figures`.
    public func verify(_ id: BackupID, against figures: BackupFigures) async throws -> VerifyOutcome {
        let restored = try await runner.run(scripts.verify(id))
        let output = restored.stdout
        if restored.result.termination == .exited(81) {
            return .unverified("no throwaway server could start from the db image: " + restored.result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let image = BackupFigures(parsing: output).facts["image"] ?? "the db image"
        let problems = restored.succeeded
            ? BackupFigures.differences(recorded: figures, restored: BackupFigures(parsing: output))
            : ["the restore failed (\(restored.result.termination)): " + String((output + restored.result.stderrText).suffix(600)).trimmingCharacters(in: .whitespacesAndNewlines)]
        return problems.isEmpty ? .verified : .failed(image: image, problems: problems)
    }

    /// Writes `record` as the backup's ID.json, atomically.
    public func write(_ record: BackupRecord) async throws {
        let result = try await runner.run(scripts.writeRecord(record))
        guard result.succeeded else { throw BackupError.hostCommandFailed(step: "writing the backup record", detail: result.shownOutput) }
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}

