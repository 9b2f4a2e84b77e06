import BotOpsKit
import Foundation

/// `deploy.backup: true`: a verified backup of the ledger before the deploy touches anything,
/// under the deploy lock, released before the deploy takes it again. Its time is reported on its
/// own line, apart from the deploy's. A backup that fails or does not verify refuses the deploy.
struct PreDeployBackup {
    let session: CommandSession
    let command: String
    let lockWait: Duration?

    func run() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let host = try await session.host()
        let held = try await session.acquireDeployLock(as: .current(command: command), wait: lockWait)
        let record: BackupRecord
        do {
            record = try await BackupJob(config: session.config, runner: host).run(id: BackupID(date: Date(), label: "pre-deploy"), keep: false, verify: true) { line in
                FileHandle.standardError.write(Data("botops: pre-deploy backup: \(line)\n".utf8))
            }
        } catch {
            await held.release()
            throw Self.outcome(of: error)
        }
        await held.release()
        guard record.status == .verified else {
            throw PreDeployBackupFailed(cause: "backup \(record.id) is \(record.status.rawValue)" + (record.statusReason.map { ": \($0)" } ?? ""))
        }
        let elapsed = clock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        FileHandle.standardError.write(Data("botops: pre-deploy backup \(record.id) verified in \(String(format: "%.1f", seconds)) s (not part of the deploy's time)\n".utf8))
    }

    /// What a failed backup ends the deploy with: a refusal, but a lost connection stays itself
    /// (exit 3, as anywhere else): the host's state is unknown, which "refused" would hide.
    static func outcome(of error: Error) -> Error {
        BotOpsExitCode(for: error) == .unreachable ? error : PreDeployBackupFailed(cause: "\(error)")
    }
}

/// The backup `deploy.backup: true` asks for failed: nothing was deployed (exit 4).
struct PreDeployBackupFailed: Error, CustomStringConvertible, ExitCodeProviding {
    var cause: String

    var description: String {
        "refused: the pre-deploy backup failed (\(cause)); nothing was deployed. Fix the backup (botops backup shows why), or deploy without it: --no-backup"
    }

    var exitCode: BotOpsExitCode { .refused }
}
