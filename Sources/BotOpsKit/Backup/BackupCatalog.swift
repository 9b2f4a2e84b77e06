import Foundation
import HostCommands
import Remote

/// The backups in backup.dir, read from their records in one round trip, with the dump's size on
/// disk so a truncated or missing dump is never listed as good.
public struct BackupCatalog: Sendable {
    public struct Entry: Sendable, Equatable {
        public var record: BackupRecord
        /// The dump's size on disk now; nil when the dump is missing.
        public var sizeOnDisk: Int64?

        /// Why this backup cannot be trusted although its record says verified (nil: it can).
        public var damage: String? {
            guard let sizeOnDisk else { return "the dump file is missing" }
            return sizeOnDisk == record.size ? nil : "the dump is \(sizeOnDisk) bytes, \(record.size) were written"
        }

        /// The record's status, failed when the file on disk no longer matches it.
        public var effectiveStatus: BackupRecord.Status { damage == nil ? record.status : .failed }
    }

    public let directory: StateDirectory
    public let runner: any CommandRunner

    public init(config: BotOpsConfig, runner: any CommandRunner) {
        directory = config.backup.directory(state: config.deploy.stateDirectory)
        self.runner = runner
    }

    /// Oldest first.
    public func entries() async throws -> [Entry] {
        let marker = SectionMarker()
        let command = RemoteCommand("""
            cd \(directory.script) 2>/dev/null || exit 0
            for record in *.json; do
              [ -f "$record" ] || continue
              id=${record%.json}
              \(marker.start("record")); cat -- "$record"; echo
              \(marker.start("size")); stat -c %s -- "$id.dump" 2>/dev/null || echo missing
            done
            """, timeout: .seconds(60))
        let result = try await runner.run(command)
        guard result.succeeded else { throw BackupError.hostCommandFailed(step: "reading the backup records", detail: result.shownOutput) }
        var entries: [Entry] = []
        var pending: BackupRecord?
        // Sections alternate record, size; SectionMarker.split would merge same-named sections.
        var current = ""
        var lines: [String] = []
        func flush() {
            if current == "record" { pending = BackupRecord.parse(lines.joined(separator: "\n")) }
            if current == "size", let record = pending {
                entries.append(Entry(record: record, sizeOnDisk: Int64(lines.first ?? "")))
                pending = nil
            }
        }
        for line in result.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(marker.text + " ") {
                flush()
                current = String(line.dropFirst(marker.text.count + 1))
                lines = []
            } else {
                lines.append(String(line))
            }
        }
        flush()
        return entries.sorted { $0.record.time < $1.record.time }
    }

    /// Deletes backups: the record first, so a half-done deletion leaves no record of a missing dump.
    public func delete(_ ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        let files = ids.flatMap { [$0 + ".json", $0 + ".dump", $0 + ".roles.sql", BackupHostFiles.fileName($0)] }
        let result = try await runner.run(RemoteCommand("cd \(directory.script) && rm -f -- \(files)", timeout: .seconds(60),
                                                        effect: .changes("deletes backups \(ids.joined(separator: ", "))")))
        guard result.succeeded else { throw BackupError.hostCommandFailed(step: "deleting expired backups", detail: result.shownOutput) }
    }

    /// Applies retention at `now`; returns the ids deleted. The caller holds the deploy lock.
    public func applyRetention(_ policy: RetentionPolicy, now: Date) async throws -> [String] {
        let items = try await entries().compactMap { entry -> RetentionPolicy.Item? in
            guard let id = BackupID.parse(entry.record.id) else { return nil }
            return RetentionPolicy.Item(id: entry.record.id, time: id.date, status: entry.effectiveStatus, keep: entry.record.keep)
        }
        let expired = policy.expired(items, now: now).sorted()
        try await delete(expired)
        return expired
    }
}
