import Basics
import Checks
import Foundation
import Remote

/// One screen of the host, as `botops status` read it in one round of probes. Encoded as the
/// `--format json` object (snake_case keys, sorted); times are epoch seconds read on the host.
public struct HostStatus: Encodable, Sendable {
    public struct Container: Encodable, Sendable, Equatable {
        public var service: String
        /// Nil when the service has no container.
        public var container: String?
        /// docker's status: running, paused, exited, restarting, …; "missing" without a container.
        public var state: String
        /// healthy, starting, unhealthy; nil without a healthcheck.
        public var health: String?
        public var uptimeSeconds: Int?
        public var restarts: Int?
        public var imageID: String?
        public var image: String?
        /// The release whose kept image has this image id, else nil ("unknown").
        public var revision: String?
        /// True when that release is the newest verified one of the service.
        public var lastVerified: Bool
    }

    public struct Checkout: Encodable, Sendable, Equatable {
        public var present: Bool
        public var branch: String?
        public var revision: String?
        public var clean: Bool
        public var changed: [String]
    }

    public struct Lock: Encodable, Sendable, Equatable {
        /// free, held, stale
        public var state: String
        public var holder: LockHolder?
        /// A holder record left by a deploy that ended without releasing.
        public var interrupted: LockHolder?
    }

    public struct LastDeploy: Encodable, Sendable, Equatable {
        public var time: String
        public var action: String
        public var result: String
        public var services: [String]
        public var to: String?
        public var command: String
    }

    public struct Moment: Encodable, Sendable, Equatable {
        /// `2026-11-30 09:00 America/Los_Angeles`
        public var local: String
        /// `2026-11-30T17:00:00Z`
        public var utc: String
    }

    public struct CronEntryStatus: Encodable, Sendable, Equatable {
        public var name: String
        public var schedule: String
        public var zone: String
        /// installed, differs, not-installed, adopted
        public var installed: String
        public var next: Moment?
        public var last: Moment?
        /// pass / warn: whether the last fire left what the entry `expects`; nil when it expects nothing.
        public var evidence: String?
        public var evidenceMessage: String?
    }

    public struct FileInfo: Encodable, Sendable, Equatable {
        public var path: String
        public var modified: Int
        public var ageSeconds: Int
        public var size: Int64
    }

    public struct Backup: Encodable, Sendable, Equatable {
        public var id: String
        public var time: String
        public var ageSeconds: Int?
        public var size: Int64?

        /// The newest backup the catalog still trusts (verified, its dump whole), aged at `now`.
        static func newestVerified(_ entries: [BackupCatalog.Entry], now: Int) -> Backup? {
            BackupAge.newestVerified(entries).map { entry in
                Backup(id: entry.record.id, time: entry.record.time, ageSeconds: parseUTC(entry.record.time).map { now - $0 }, size: entry.record.size)
            }
        }

        /// `botops restore ID --yes`, as the restore command spells it.
        public var restoreCommand: String { "botops restore \(shellQuote(id)) --yes" }
    }

    public struct Disk: Encodable, Sendable, Equatable {
        /// docker-root, checkout, state-dir
        public var name: String
        public var mount: String
        public var freeBytes: Int64
    }

    /// The host's `~/botops/bin/botops`, as its `--version` told.
    public enum HostCopy: Sendable, Equatable {
        case notInstalled
        /// Its version cannot be told (the probe's output was unreadable): why.
        case unknown(String)
        /// Its version, or why it fails (so it differs from this one).
        case runs(String)

        var shown: String {
            switch self {
            case .notInstalled: "not installed"
            case .unknown(let why): "unknown: " + why
            case .runs(let version): version
            }
        }
    }

    public struct Versions: Encodable, Sendable, Equatable {
        public var local: String
        public var host: HostCopy
        /// The host has no `timeout` command: its `--version` ran without a time limit.
        public var hostUnlimited = false

        /// Whether the host's copy is this one: nil when that cannot be told (none, or unknown).
        public var same: Bool? {
            if case .runs(let version) = host { version == local } else { nil }
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(local, forKey: Key("local"))
            try container.encode(host.shown, forKey: Key("host"))
            try container.encode(same, forKey: Key("same"))
            try container.encode(hostUnlimited, forKey: Key("host_unlimited"))
        }
    }

    /// Keys written as they are spelled, so that "none" is an explicit null in the JSON.
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public var version = 1
    public var destination: String
    public var readAt: Int
    public var durationMS: Int
    public var services: [Container]
    public var database: Container
    public var checkout: Checkout
    /// Why the release records could not be read, naming the file; nil when they were (or none exist).
    public var releasesProblem: String?
    public var lock: Lock
    public var lastDeploy: LastDeploy?
    public var cron: [CronEntryStatus]
    /// Set when the crontab could not be read or judged.
    public var cronProblem: String?
    public var newestReport: FileInfo?
    public var newestVerifiedBackup: Backup?
    public var disk: [Disk]
    public var botops: Versions
    /// Probes that failed, by name, with what they said: the rest of the screen still shows.
    public var problems: [String]

    /// Every key is always present; what was not found is null, never left out.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(version, forKey: Key("version"))
        try container.encode(destination, forKey: Key("destination"))
        try container.encode(formatUTC(readAt), forKey: Key("read_at"))
        try container.encode(durationMS, forKey: Key("duration_ms"))
        try container.encode(services, forKey: Key("services"))
        try container.encode(database, forKey: Key("database"))
        try container.encode(checkout, forKey: Key("checkout"))
        try container.encode(releasesProblem, forKey: Key("releases_problem"))
        try container.encode(lock, forKey: Key("lock"))
        try container.encode(lastDeploy, forKey: Key("last_deploy"))
        try container.encode(cron, forKey: Key("cron"))
        try container.encode(cronProblem, forKey: Key("cron_problem"))
        try container.encode(newestReport, forKey: Key("newest_report"))
        try container.encode(newestVerifiedBackup, forKey: Key("newest_verified_backup"))
        try container.encode(disk, forKey: Key("disk"))
        try container.encode(botops, forKey: Key("botops"))
        try container.encode(problems, forKey: Key("problems"))
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }
}
