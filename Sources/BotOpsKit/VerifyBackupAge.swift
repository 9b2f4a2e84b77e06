import Checks
import Foundation

/// verify's note on the ledger's backups, judged here where the backup catalog is known. Given
/// only once a backup exists or botops.yml has `backup:`, so a host that does not use botops'
/// backups is not nagged.
extension BackupAgeVerdict {
    /// nil when there is nothing to say: no backup at all and no `backup:` in botops.yml.
    public static func judge(_ entries: [BackupCatalog.Entry], settings: BackupSettings, now: Date) -> BackupAgeVerdict? {
        guard !entries.isEmpty || settings.configured else { return nil }
        let limit = settings.maxAge.map { Int($0.components.seconds) }
        let limitText = limit.map { "backup.max_age: " + BackupAge.text(TimeInterval($0)) } ?? "backup.max_age: off"
        guard let newest = BackupAge.newestVerified(entries), let id = BackupID.parse(newest.record.id) else {
            return BackupAgeVerdict(status: limit == nil ? .pass : .warn,
                                    message: "no verified backup exists (\(limitText)): run botops backup, or check the scheduled backup's log",
                                    maxAgeSeconds: limit)
        }
        let age = Int(now.timeIntervalSince(id.date))
        let stale = limit.map { age > $0 } ?? false
        let message = "the newest verified backup, \(newest.record.id), is \(BackupAge.text(TimeInterval(age))) old (\(limitText))"
            + (stale ? ": the scheduled backup has not run or has failed; see its log, or run botops backup" : "")
        return BackupAgeVerdict(status: stale ? .warn : .pass, message: message, newest: newest.record.id, ageSeconds: age, maxAgeSeconds: limit)
    }

    /// What verify says when the backups could not be read: a warning, the checks stand.
    public static func unreadable(_ error: Error) -> BackupAgeVerdict {
        BackupAgeVerdict(status: .warn, message: "the backups could not be read: \(error)")
    }
}
