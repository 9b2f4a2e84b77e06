import Foundation

/// `botops backups` as a table.
public struct BackupTable: Sendable {
    public let now: Date

    public init(now: Date) {
        self.now = now
    }

    public func render(_ entries: [BackupCatalog.Entry]) -> String {
        let rows = entries.map { entry -> [String] in
            let record = entry.record
            let age = BackupID.parse(record.id).map { BackupAge.text(now.timeIntervalSince($0.date)) } ?? "?"
            let status = entry.damage.map { "DAMAGED: \($0)" } ?? record.status.rawValue + (record.keep ? ", kept" : "")
            let pushed = record.pushed.map { $0 ? "yes" : "FAILED" } ?? "-"
            return [record.id, age, formatBytes(record.size), String(record.tables.reduce(Int64(0)) { $0 + $1.rows }), status, pushed]
        }
        let header = ["ID", "AGE", "SIZE", "ROWS", "STATUS", "PUSHED"]
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces) + "\n"
        }.joined()
    }
}

/// How old the newest verified backup is, against backup.max_age.
public enum BackupAge {
    public static func newestVerified(_ entries: [BackupCatalog.Entry]) -> BackupCatalog.Entry? {
        entries.filter { $0.effectiveStatus == .verified }.max { $0.record.time < $1.record.time }
    }

    /// The warning to give, or nil.
    public static func warning(_ entries: [BackupCatalog.Entry], maxAge: Duration?, now: Date) -> String? {
        guard let maxAge else { return nil }
        let limit = Double(maxAge.components.seconds)
        guard let newest = newestVerified(entries), let id = BackupID.parse(newest.record.id) else {
            return "no verified backup exists: run botops backup"
        }
        let age = now.timeIntervalSince(id.date)
        return age > limit ? "the newest verified backup, \(newest.record.id), is \(text(age)) old (backup.max_age: \(text(limit)))" : nil
    }

    /// "3 h", "2 d", "45 min".
    public static func text(_ seconds: TimeInterval) -> String {
        switch seconds {
        case ..<3600: return "\(max(0, Int(seconds / 60))) min"
        case ..<(2 * 86_400): return "\(Int(seconds / 3600)) h"
        default: return "\(Int(seconds / 86_400)) d"
        }
    }
}

extension BackupCatalog.Entry {
    /// The record, with the dump's size on disk and the status it has after that check.
    public var json: String {
        let record = self.record.json
        let extra = #","size_on_disk":\#(sizeOnDisk.map(String.init) ?? "null"),"effective_status":"\#(effectiveStatus.rawValue)"}"#
        return String(record.dropLast()) + extra
    }
}
