import Foundation
import HostCommands

/// The deploy's part of botops.yml:
///
///     state_dir: ~/.botops        # on the host, outside the checkout
///     lock: {stale_after: 2h}
///     releases: {keep: 5}
///     deploy: {min_free_disk: 1GB, backup: false}
///     playbooks: playbooks        # deploy.yml and rollback.yml, relative to botops.yml
public struct DeploySettings: Sendable, Equatable {
    /// The folder with deploy.yml and rollback.yml; relative paths are relative to botops.yml.
    public var playbooks = "playbooks"
    /// Where the lock, the audit log and the release records live on the host.
    public var stateDirectory = StateDirectory(path: "~/.botops")
    /// A held lock whose holder has not recorded progress for this long is reported as stale.
    public var lockStaleAfter: Duration = .seconds(2 * 3600)
    /// Last-known-good images kept per service.
    public var keepReleases = 5
    /// Refuse to build with less free space than this on the docker root or the checkout.
    public var minFreeDiskBytes: Int64 = 1 << 30
    /// `deploy.backup: true`: a verified backup of the ledger before each deploy.
    public var backup = false

    public init() {}

    mutating func read(from top: MappingReader) throws {
        playbooks = try top.string("playbooks") ?? playbooks
        if let path = try top.string("state_dir", validate: StateDirectory.validate) {
            stateDirectory = StateDirectory(path: path)
        }
        if let lock = try top.mapping("lock") {
            lockStaleAfter = try lock.duration("stale_after") ?? lockStaleAfter
            try lock.rejectUnknownKeys()
        }
        if let releases = try top.mapping("releases") {
            keepReleases = try releases.int("keep", range: 1...100) ?? keepReleases
            try releases.rejectUnknownKeys()
        }
        if let deploy = try top.mapping("deploy") {
            if let text = try deploy.string("min_free_disk", validate: { parseByteSize($0) == nil ? "expected a size such as 500MB or 2GB" : nil }) {
                minFreeDiskBytes = parseByteSize(text) ?? minFreeDiskBytes
            }
            if let text = try deploy.string("backup", validate: { ["true", "false"].contains($0) ? nil : "expected true or false" }) {
                backup = text == "true"
            }
            try deploy.rejectUnknownKeys()
        }
    }
}

extension DeploySettings {
    /// The playbook of `kind`: the file in the playbooks directory (relative to the directory of
    /// `configPath`) when there is one, else the one built into botops.
    public func loadPlaybook(_ kind: Playbook.Kind, configPath: String?) throws -> Playbook {
        let base = configPath.map { URL(fileURLWithPath: $0).deletingLastPathComponent() } ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let directory = playbooks.hasPrefix("/") ? URL(fileURLWithPath: playbooks) : base.appendingPathComponent(playbooks)
        return try Playbook.resolve(kind, directory: directory.path)
    }
}

/// "500MB", "2GB", "1G", "1024" (bytes).
func parseByteSize(_ text: String) -> Int64? {
    let units: [(String, Int64)] = [("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10),
                                     ("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10), ("B", 1), ("", 1)]
    for (suffix, factor) in units where text.uppercased().hasSuffix(suffix) {
        guard let value = Int64(text.dropLast(suffix.count)), value >= 0 else { continue }
        let (product, overflow) = value.multipliedReportingOverflow(by: factor)
        return overflow ? nil : product
    }
    return nil
}

/// A duration as botops.yml writes it ("30s", "10m", "1h", "500ms"), for flags that take one.
public func parseTimeLimit(_ text: String) -> Duration? {
    parseDuration(text)
}
