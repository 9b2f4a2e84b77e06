import Checks
import Foundation
import HostCommands
import Remote

/// The part of a backup's record (`ID.json` beside `ID.dump` in the backup directory) that status
/// and recover read: which backup, when, whether its restore was verified, and its tables.
// FIXME: Backup/BackupRecord is the full record and Backup/BackupCatalog lists them (size and damage judged there too): status and recover should read backups through those, not this second reader.
public struct BackupSummary: Decodable, Sendable, Equatable {
    public struct Table: Decodable, Sendable, Equatable {
        public var schema: String
        public var name: String
    }

    public var id: String
    /// ISO-8601 UTC.
    public var time: String
    public var status: String
    public var size: Int64?
    public var tables: [Table]?

    /// The size of `ID.dump` beside the record as the probe found it; nil when there is no dump.
    public var dumpSize: Int64?

    public var epoch: Int? { parseUTC(time) }
    /// A record says "verified", and its dump is still there at the size it recorded: a record
    /// whose dump was deleted or cut short restores nothing.
    public var isVerified: Bool { status == "verified" && dumpSize != nil && (size == nil || size == dumpSize) }

    enum CodingKeys: String, CodingKey { case id, time, status, size, tables }
}

/// The backup records on the host, read in one command.
public struct BackupRecords: Sendable, Equatable {
    public var records: [BackupSummary]

    /// The record with status "verified" and the greatest time; nil when there is none.
    public var newestVerified: BackupSummary? {
        records.filter { $0.isVerified && $0.epoch != nil }.max { ($0.epoch ?? 0) < ($1.epoch ?? 0) }
    }

    /// `botops restore ID --yes`, as the backups' own command spells it.
    public static func restoreCommand(_ record: BackupSummary) -> String {
        "botops restore \(shellQuote(record.id)) --yes"
    }

    /// Prints each record after its own marker line; a directory that does not exist prints nothing.
    static func probe(directory: ShellScript, marker: SectionMarker) -> ShellScript {
        """
        if cd \(directory) 2>/dev/null; then for f in *.json; do [ -f "$f" ] && { echo \(marker.text) "record $f"; cat -- "$f"; echo
          echo \(marker.text) "dump $f"; stat -c %s -- "${f%.json}.dump" 2>/dev/null || echo missing; }; done; fi; true
        """
    }

    /// Records that do not parse (a half-written one, another file) are left out.
    static func parse(_ sections: [String: [String]]) -> BackupRecords {
        let records = sections.filter { $0.key.hasPrefix("record ") }.sorted { $0.key < $1.key }.compactMap { key, lines -> BackupSummary? in
            guard var record = try? JSONDecoder().decode(BackupSummary.self, from: Data(lines.joined(separator: "\n").utf8)) else { return nil }
            record.dumpSize = sections["dump " + key.dropFirst("record ".count)]?.first.flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
            return record
        }
        return BackupRecords(records: records)
    }
}
