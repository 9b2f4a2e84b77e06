import Foundation

/// botops.yml's `backup:` section:
///
///     backup:
///       dir: ~/.botops/backups     # default: state_dir/backups; never inside the checkout
///       min_free_disk: 1GB         # plus the last dump's size, on backup.dir's disk
///       keep: {daily: 7, weekly: 4, monthly: 12}
///       max_age: 24h               # or off
///       host_files: false      # true: logs/ and .env of the checkout archived beside the dump
///       push: sh -c 'rsync -a -- "$@" box:backups/' push   # run on the host after a verified backup, the files appended
///       verify_on_live: false  # true: when no throwaway server starts, verify in a scratch database on the live server
public struct BackupSettings: Sendable, Equatable {
    /// nil: `<state_dir>/backups`.
    public var dir: String?
    public var minFreeDiskBytes: Int64 = 1 << 30
    public var keepDaily = 7
    public var keepWeekly = 4
    public var keepMonthly = 12
    /// nil: off.
    public var maxAge: Duration? = .seconds(24 * 3600)
    /// A shell command run on the host after each verified backup, with the files' paths appended.
    public var push: String?
    /// Archive the checkout's logs/ and .env beside each dump.
    public var hostFiles = false
    /// When the db image cannot start a throwaway server, verify in a scratch database
    /// `botops_verify_<id>` on the live server instead of keeping the backup unverified.
    public var verifyOnLive = false
    /// True once botops.yml has a `backup:` section.
    public var configured = false

    public init() {}

    /// The backup directory on the host, given the state directory.
    public func directory(state: StateDirectory) -> StateDirectory {
        StateDirectory(path: dir ?? state.path + "/backups")
    }

    mutating func read(from top: MappingReader) throws {
        guard let backup = try top.mapping("backup") else { return }
        configured = true
        dir = try backup.string("dir", validate: StateDirectory.validate) ?? dir
        if let text = try backup.string("min_free_disk", validate: { parseByteSize($0) == nil ? "expected a size such as 500MB or 2GB" : nil }) {
            minFreeDiskBytes = parseByteSize(text) ?? minFreeDiskBytes
        }
        if let keep = try backup.mapping("keep") {
            keepDaily = try keep.int("daily", range: 0...1000) ?? keepDaily
            keepWeekly = try keep.int("weekly", range: 0...1000) ?? keepWeekly
            keepMonthly = try keep.int("monthly", range: 0...1000) ?? keepMonthly
            try keep.rejectUnknownKeys()
        }
        if try backup.string("max_age") == "off" {
            maxAge = nil
        } else {
            maxAge = try backup.duration("max_age") ?? maxAge
        }
        push = try backup.string("push")
        hostFiles = try backup.string("host_files", validate: { ["true", "false"].contains($0) ? nil : "expected true or false" }).map { $0 == "true" } ?? hostFiles
        verifyOnLive = try backup.string("verify_on_live", validate: { ["true", "false"].contains($0) ? nil : "expected true or false" }).map { $0 == "true" } ?? verifyOnLive
        try backup.rejectUnknownKeys()
    }
}
