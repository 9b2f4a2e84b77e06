import Foundation
import HostCommands
import Remote

/// A download that left nothing under the backup's name on this machine.
public struct BackupDownloadError: Error, CustomStringConvertible, ExitCodeProviding {
    public let file: String
    public let detail: String
    public var exitCode: BotOpsExitCode { .failed }
    public var description: String {
        "downloading \(file) failed, nothing was written under its name (the backup on the host is unchanged): \(detail)"
    }
}

/// `backup --download DIR`: the dump, its roles and its record copied to this machine over the
/// same connection, streamed (constant memory), each file written atomically and named only when
/// its size and sha256 are the expected ones: the dump's are in the record; the roles' sha256 too
/// (a file on the host that differs is refused; an older record without one: the host's is read
/// first, unchecked); the record's are those of the record botops wrote on
/// the host (this run holds the lock, so nothing else rewrites these files). The record goes last,
/// so a record here means its dump and roles are whole.
public struct BackupDownload: Sendable {
    public let scripts: BackupScripts
    public let runner: any CommandRunner

    public init(config: BotOpsConfig, runner: any CommandRunner) {
        scripts = BackupScripts(config: config)
        self.runner = runner
    }

    /// Returns the paths written.
    public func run(_ record: BackupRecord, into directory: String) async throws -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw BackupDownloadError(file: directory, detail: "cannot create the directory: \(error.localizedDescription)")
        }
        let roles = BackupRoles.fileName(record.id)
        let rolesFile = try await rolesOnHost(record.id)
        if let recorded = record.rolesSha256 {
            guard rolesFile.sha256 == recorded else {
                throw BackupDownloadError(file: roles, detail: BackupRoles.mismatch(roles, found: rolesFile.sha256, recorded: recorded, where: "on the host"))
            }
        }
        let recordFile = Self.recordFile(record)
        var written: [String] = []
        // The roles hold the cluster's password hashes: mode 600, as on the host.
        for (name, sha256, size, mode) in [(record.id + ".dump", record.sha256, record.size, mode_t(0o640)), (roles, rolesFile.sha256, rolesFile.size, mode_t(0o600)),
                                           (record.id + ".json", recordFile.sha256, recordFile.size, mode_t(0o640))] {
            let path = directory + "/" + name
            let cat: ShellScript = "cd \(scripts.directory.script) && exec cat -- \(name)"
            do {
                try await runner.download(cat.text, to: path, sha256: sha256, size: size, mode: mode, timeout: .seconds(6 * 3600))
            } catch let error as DownloadError {
                let arrived = written.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: " and ")
                let kept = written.isEmpty ? "" : " (\(arrived) arrived whole and \(written.count == 1 ? "stays" : "stay"); without its record, restore does not take the dump)"
                throw BackupDownloadError(file: name, detail: error.description + kept)
            }
            written.append(path)
        }
        return written
    }

    /// The size and sha256 of `ID.roles.sql` on the host.
    private func rolesOnHost(_ id: String) async throws -> FileDigest {
        let name = BackupRoles.fileName(id)
        do {
            return try await FileDigest.probe([name], in: scripts.directory.script).run(on: runner)[0]
        } catch let error as ProbeOutputError {
            throw BackupDownloadError(file: name, detail: "cannot read it in backup.dir: \(error.output)")
        }
    }

    /// The size and sha256 of `ID.json` as BackupScripts.writeRecord writes it: the record's JSON
    /// and a newline.
    static func recordFile(_ record: BackupRecord) -> (size: Int64, sha256: String) {
        let bytes = Array((record.json + "\n").utf8)
        return (Int64(bytes.count), StreamingSHA256.hex(of: bytes))
    }
}
