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

/// `backup --download DIR`: the dump and its record copied to this machine over the same
/// connection, streamed (constant memory), each file written atomically and named only when its
/// size and sha256 are the expected ones: the dump's are in the record; the record's are those of
/// the record botops wrote on the host (this run holds the lock, so nothing else rewrites it).
/// The record goes last, so a record here means its dump is whole.
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
        let recordFile = Self.recordFile(record)
        var written: [String] = []
        for (name, sha256, size) in [(record.id + ".dump", record.sha256, record.size), (record.id + ".json", recordFile.sha256, recordFile.size)] {
            let path = directory + "/" + name
            let cat: ShellScript = "cd \(scripts.directory.script) && exec cat -- \(name)"
            do {
                try await runner.download(cat.text, to: path, sha256: sha256, size: size, timeout: .seconds(6 * 3600))
            } catch let error as DownloadError {
                let kept = written.isEmpty ? "" : " (\(record.id).dump arrived whole and stays; without its record, restore does not take it)"
                throw BackupDownloadError(file: name, detail: error.description + kept)
            }
            written.append(path)
        }
        return written
    }

    /// The size and sha256 of `ID.json` as BackupScripts.writeRecord writes it: the record's JSON
    /// and a newline.
    static func recordFile(_ record: BackupRecord) -> (size: Int64, sha256: String) {
        let bytes = Array((record.json + "\n").utf8)
        let digest = StreamingSHA256()
        bytes.withUnsafeBytes { digest.update($0) }
        return (Int64(bytes.count), digest.finish())
    }
}
