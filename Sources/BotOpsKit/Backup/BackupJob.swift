import Foundation
import HostCommands
import Remote

/// Why a backup did not happen or did not prove good; the message says what to do.
public enum BackupError: Error, Equatable, CustomStringConvertible, ExitCodeProviding {
    case insideCheckout(directory: String, checkout: String)
    case lowDisk(directory: String, freeBytes: Int64, neededBytes: Int64)
    /// df printed no free space for the backup directory's disk: no room can be judged.
    case diskUnreadable(directory: String)
    case dumpFailed(String)
    case verificationFailed(id: String, problems: [String])
    case hostCommandFailed(step: String, detail: String)
    /// A verification on the live server was cut short: its scratch database may still be there.
    case scratchMayRemain(database: String, dropCommand: String, cause: String, code: BotOpsExitCode)

    public var exitCode: BotOpsExitCode {
        switch self {
        case .insideCheckout: return .usage
        case .lowDisk, .diskUnreadable: return .refused
        case .dumpFailed, .verificationFailed, .hostCommandFailed: return .failed
        case .scratchMayRemain(_, _, _, let code): return code
        }
    }

    public var description: String {
        switch self {
        case let .insideCheckout(directory, checkout):
            return "backup.dir \(directory) is inside the checkout \(checkout), where an image build would copy the ledger into the image. Set backup.dir in botops.yml to a directory outside it."
        case let .lowDisk(directory, free, needed):
            return "refused: \(formatBytes(free)) free on the disk of \(directory), a backup needs \(formatBytes(needed)) (backup.min_free_disk plus the last dump's size, plus \(formatBytes(BackupScripts.templateBytes)) for the verification's template when one is to be written there); filling that disk can stop PostgreSQL. Free space, or lower backup.min_free_disk."
        case let .diskUnreadable(directory):
            return "refused: df printed no free space for the disk of \(directory), so botops cannot tell whether a dump fits there. Run df -h \(shellQuote(directory)) on the host to see why."
        case let .dumpFailed(detail):
            return "backup failed, nothing was kept: \(detail)"
        case let .verificationFailed(id, problems):
            return "backup \(id) failed verification (marked failed; do not rely on it): " + problems.prefix(10).joined(separator: "; ")
        case let .hostCommandFailed(step, detail):
            return "\(step) failed on the host: \(detail)"
        case let .scratchMayRemain(database, dropCommand, cause, _):
            return "the verification on the live server did not finish (\(cause)); its scratch database \(database) may remain there."
                + " The next backup or restore --test drops it (its marker is in backup.dir), or drop it now by running on the host"
                + " (it drops the database only if botops's marker there and the database's comment hold the same token):\n  \(dropCommand)"
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

    /// Refuses a backup.dir inside the checkout or on a disk without room (for the dump, and for
    /// the verify template when a verification will write one there).
    public func preflight(verify: Bool = false) async throws {
        let result = try await runner.run(scripts.preflight())
        guard result.succeeded else { throw BackupError.hostCommandFailed(step: "backup preflight", detail: result.shownOutput) }
        let facts = BackupFigures(parsing: result.stdout).facts
        if let checkout = facts["inside"] {
            throw BackupError.insideCheckout(directory: scripts.directory.path, checkout: checkout)
        }
        let directory = facts["dir"] ?? scripts.directory.path
        guard let free = FreeDisk.parse(facts["free"])?.freeBytes else { throw BackupError.diskUnreadable(directory: directory) }
        let last = Int64(facts["last"] ?? "") ?? 0
        let template = verify ? Int64(facts["template"] ?? "") ?? 0 : 0
        let needed = settings.minFreeDiskBytes + last + template
        if free < needed {
            throw BackupError.lowDisk(directory: directory, freeBytes: free, neededBytes: needed)
        }
    }

    /// Dumps and records the backup `id`; then verifies it when `verify`. Returns the final record;
    /// throws after recording a failed verification.
    public func run(id: BackupID, keep: Bool, verify: Bool, progress: @Sendable (String) -> Void = { _ in }) async throws -> BackupRecord {
        try await preflight(verify: verify)
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
        record.rolesSha256 = figures.facts["roles_sha256"]
        try await write(record)
        guard verify else { return record }

        progress("verifying: restoring \(id.text).dump into a throwaway server")
        let (outcome, onLive) = try await self.verify(id, against: figures, progress: progress)
        switch outcome {
        case .verified:
            record.status = .verified
            record.statusReason = onLive.map { "verified in a scratch database on the live server (backup.verify_on_live): " + $0 }
            try await write(record)
            return record
        case .unverified(let reason):
            record.statusReason = reason
            try await write(record)
            return record
        case .failed(let image, let problems):
            record.status = .failed
            record.statusReason = "verification in \(onLive == nil ? "a throwaway server from " : "a scratch database on ")\(image): " + problems.prefix(10).joined(separator: "; ")
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

    /// Restores `ID.dump` into a throwaway server and compares its figures with `figures`. When no
    /// throwaway server can start and `backup.verify_on_live` is set, into a scratch database on
    /// the live server instead: `onLive` says why, and `progress` names the database first. With
    /// `sha256`, a dump whose sha256 differs is refused (`RestoreError.damaged`) before its restore.
    public func verify(_ id: BackupID, sha256: String? = nil, against figures: BackupFigures,
                       progress: @Sendable (String) -> Void) async throws -> (outcome: VerifyOutcome, onLive: String?) {
        // Scratch databases of the live server and the throwaway server are apart: both at once.
        async let dropped = runner.run(scripts.dropLeftScratch())
        let restored = try await heldOpen(scripts.verify(id, sha256: sha256))
        // A damaged dump is the first cause: a failed drop of earlier scratch databases must not hide it.
        var dropFailure: Error?, resolved: String?
        do {
            let left = try await dropped
            resolved = BackupFigures(parsing: left.stdout).facts["dir"]
            if !left.succeeded { dropFailure = BackupError.hostCommandFailed(step: "dropping scratch databases left by earlier verifications", detail: left.shownOutput) }
        } catch {
            dropFailure = error
        }
        if restored.result.termination == .exited(84) {
            let damage = restored.result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            throw RestoreError.damaged(id: id.text, detail: damage + (dropFailure.map { "; besides, \($0)" } ?? ""))
        }
        if let dropFailure { throw dropFailure }
        if restored.result.termination == .exited(81) {
            let why = "no throwaway server could start from the db image: " + restored.result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            guard settings.verifyOnLive else {
                return (.unverified(why + " (backup.verify_on_live: true verifies in a scratch database on the live server instead)"), nil)
            }
            let scratch = scripts.scratchDatabase(id)
            // Said before it exists: an interrupted command reports no error, so this line names it.
            progress("\(why); verifying in the scratch database \(scratch) on the live server (backup.verify_on_live);"
                     + " if this is cut short, the next backup or restore --test drops it")
            do {
                return (compare(try await heldOpen(scripts.verifyOnLive(id)), with: figures), why)
            } catch {
                throw BackupError.scratchMayRemain(database: scratch, dropCommand: scripts.dropScratchByHand(scratch, resolved: resolved), cause: "\(error)",
                                                   code: (error as? any ExitCodeProviding)?.exitCode ?? .failed)
            }
        }
        let facts = BackupFigures(parsing: restored.stdout).facts
        if let template = facts["template"] {
            progress("kept the throwaway server's initialised data directory in \(template): the next verifications start from it")
        }
        if let template = facts["template-skipped"] {
            progress("skipped keeping the throwaway server's initialised data directory in \(template) (it could not be made or written); the next verification runs initdb again")
        }
        return (compare(restored, with: figures), nil)
    }

    /// Runs a verification script with its stdin held open until botops has its result: the
    /// script stops and cleans up on the host when that stdin ends first (botops interrupted,
    /// killed or cut off; `BackupScripts.stopWhenBotopsLeaves`). Cancelling the caller (Ctrl-C)
    /// ends that stdin and waits, up to `cleanupBound`, for the script to finish its cleanup, so
    /// the deploy lock is released after it: the next holder (a `restore ID --test` of the same
    /// backup runs a server of the same name) never meets a dying one. Then throws CancellationError.
    private func heldOpen(_ command: RemoteCommand) async throws -> RemoteCommandResult {
        let stdin = try CommandInputPipe()
        // Not cancelled with its caller: a cancellation would abandon the channel at once.
        let running = Task { [runner] in
            defer { stdin.close() }
            return try await runner.run(command, input: stdin.input)
        }
        let result = try await withTaskCancellationHandler {
            try await running.value
        } onCancel: {
            stdin.closeWriting()
            Task {
                try await Task.sleep(for: Self.cleanupBound)
                running.cancel()
            }
        }
        try Task.checkCancellation()
        return result
    }

    /// How long a cancelled verification's cleanup on the host is waited for (a `docker rm -f`
    /// and a `dropdb`), before its channel is abandoned.
    static let cleanupBound: Duration = .seconds(30)

    /// The outcome of a restore script that printed the restored copy's figures.
    private func compare(_ restored: RemoteCommandResult, with figures: BackupFigures) -> VerifyOutcome {
        let output = restored.stdout
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

