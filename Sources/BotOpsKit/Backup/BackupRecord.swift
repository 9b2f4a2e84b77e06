import Foundation

/// `ID.json` beside `ID.dump` in backup.dir: what the dump holds and whether a restore proved it.
/// The format is shared with `status` and `recover` (snake_case, sorted keys, nulls written).
public struct BackupRecord: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case verified, unverified, failed
    }

    /// One table's figures: `count(*)` and the sum of the first 64 bits of `md5(row::text)`
    /// (a decimal string: the sum outgrows 64 bits).
    public struct Table: Codable, Sendable, Equatable, Hashable {
        public var schema: String
        public var name: String
        public var rows: Int64
        public var checksum: String

        public init(schema: String, name: String, rows: Int64, checksum: String) {
            self.schema = schema
            self.name = name
            self.rows = rows
            self.checksum = checksum
        }

        public var qualifiedName: String { "\(schema).\(name)" }
    }

    public struct Sequence: Codable, Sendable, Equatable {
        public var schema: String
        public var name: String
        /// nil for a sequence never used.
        public var lastValue: Int64?

        public init(schema: String, name: String, lastValue: Int64?) {
            self.schema = schema
            self.name = name
            self.lastValue = lastValue
        }

        enum CodingKeys: String, CodingKey {
            case schema, name
            case lastValue = "last_value"
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(schema, forKey: .schema)
            try container.encode(name, forKey: .name)
            try container.encode(lastValue, forKey: .lastValue)
        }
    }

    public var version = 1
    public var id: String
    /// ISO-8601 UTC.
    public var time: String
    public var label: String?
    public var database: String
    public var serverVersion: String
    public var size: Int64
    public var sha256: String
    public var tocDigest: String
    public var status: Status
    public var statusReason: String?
    public var keep: Bool
    public var pushed: Bool?
    /// `ID.host-files.tar.gz` when `backup.host_files` archived logs/ and .env beside the dump
    /// (absent otherwise: an additive field).
    public var hostFiles: String?
    /// The sha256 of `ID.roles.sql`, checked before a restore uses that file. nil in a record
    /// written before botops recorded it (an additive field): unknown, so that file is unchecked.
    public var rolesSha256: String?
    public var tables: [Table]
    public var sequences: [Sequence]

    enum CodingKeys: String, CodingKey {
        case version, id, time, label, database, size, sha256, status, keep, pushed, tables, sequences
        case serverVersion = "server_version"
        case tocDigest = "toc_digest"
        case statusReason = "status_reason"
        case hostFiles = "host_files"
        case rolesSha256 = "roles_sha256"
    }

    public init(id: BackupID, database: String, serverVersion: String, size: Int64, sha256: String, tocDigest: String,
                status: Status, statusReason: String?, keep: Bool, tables: [Table], sequences: [Sequence]) {
        self.id = id.text
        self.time = id.isoTime
        self.label = id.label
        self.database = database
        self.serverVersion = serverVersion
        self.size = size
        self.sha256 = sha256
        self.tocDigest = tocDigest
        self.status = status
        self.statusReason = statusReason
        self.keep = keep
        self.pushed = nil
        self.tables = tables
        self.sequences = sequences
    }

    // Written by hand so that absent values appear as null, as the shared format says.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(version, forKey: .version)
        try container.encode(id, forKey: .id)
        try container.encode(time, forKey: .time)
        try container.encode(label, forKey: .label)
        try container.encode(database, forKey: .database)
        try container.encode(serverVersion, forKey: .serverVersion)
        try container.encode(size, forKey: .size)
        try container.encode(sha256, forKey: .sha256)
        try container.encode(tocDigest, forKey: .tocDigest)
        try container.encode(status, forKey: .status)
        try container.encode(statusReason, forKey: .statusReason)
        try container.encode(keep, forKey: .keep)
        try container.encode(pushed, forKey: .pushed)
        try container.encodeIfPresent(hostFiles, forKey: .hostFiles)
        // Absent, not null, when unknown: an older record reads and writes back byte for byte.
        try container.encodeIfPresent(rolesSha256, forKey: .rolesSha256)
        try container.encode(tables, forKey: .tables)
        try container.encode(sequences, forKey: .sequences)
    }

    /// The record as one line of JSON, keys sorted.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    public static func parse(_ json: String) -> BackupRecord? {
        try? JSONDecoder().decode(BackupRecord.self, from: Data(json.utf8))
    }
}

/// A backup's name: its UTC time `YYYYMMDDTHHMMSSZ`, then `-label` when it has one.
public struct BackupID: Sendable, Equatable, Hashable {
    public let date: Date
    public let label: String?

    public init(date: Date, label: String?) {
        // Whole seconds: the name holds no more.
        self.date = Date(timeIntervalSince1970: floor(date.timeIntervalSince1970))
        self.label = label
    }

    public var text: String {
        Self.stamp(date, dateSeparator: "", timeSeparator: "") + (label.map { "-" + $0 } ?? "")
    }

    public var isoTime: String {
        Self.stamp(date, dateSeparator: "-", timeSeparator: ":")
    }

    public static func parse(_ text: String) -> BackupID? {
        let stamp = Array(text.utf8.prefix(16))
        guard stamp.count == 16, stamp[8] == UInt8(ascii: "T"), stamp[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            stamp[range].allSatisfy { (48...57).contains($0) } ? Int32(String(decoding: stamp[range], as: UTF8.self)) : nil
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
              let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15) else { return nil }
        var fields = tm()
        fields.tm_year = year - 1900
        fields.tm_mon = month - 1
        fields.tm_mday = day
        fields.tm_hour = hour
        fields.tm_min = minute
        fields.tm_sec = second
        let date = Date(timeIntervalSince1970: TimeInterval(timegm(&fields)))
        // timegm normalises (month 13, 25 o'clock): only a stamp that comes back unchanged is one.
        guard Self.stamp(date, dateSeparator: "", timeSeparator: "").utf8.elementsEqual(stamp) else { return nil }
        let rest = text.dropFirst(16)
        if rest.isEmpty { return BackupID(date: date, label: nil) }
        guard rest.hasPrefix("-"), validLabel(String(rest.dropFirst())) == nil else { return nil }
        return BackupID(date: date, label: String(rest.dropFirst()))
    }

    /// nil when `label` may name a backup; otherwise what is expected.
    public static func validLabel(_ label: String) -> String? {
        let allowed = label.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "_.-".unicodeScalars.contains($0) }
        return allowed && (1...40).contains(label.count) && !label.hasPrefix(".") && !label.hasPrefix("-")
            ? nil : "expected 1 to 40 letters, digits, '_', '.', '-' (not first)"
    }

    /// The UTC second of `date`, by gmtime_r: a DateFormatter would load ICU's formatting data,
    /// about 4 MB of botops' peak resident memory (README: Benchmarks).
    private static func stamp(_ date: Date, dateSeparator: String, timeSeparator: String) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var fields = tm()
        gmtime_r(&seconds, &fields)
        func padded(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return padded(fields.tm_year + 1900, 4) + dateSeparator + padded(fields.tm_mon + 1, 2) + dateSeparator + padded(fields.tm_mday, 2)
            + "T" + padded(fields.tm_hour, 2) + timeSeparator + padded(fields.tm_min, 2) + timeSeparator + padded(fields.tm_sec, 2) + "Z"
    }
}
