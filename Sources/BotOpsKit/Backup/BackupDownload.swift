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
/// connection, streamed (constant memory), the dump's sha256 and size checked against the record
/// on arrival, each file written atomically; the record last, so a record here means its dump is whole.
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
        var written: [String] = []
        for (name, sha256, size) in [(record.id + ".dump", Optional(record.sha256), Optional(record.size)), (record.id + ".json", nil, nil)] {
            let path = directory + "/" + name
            let cat: ShellScript = "cd \(scripts.directory.script) && exec cat -- \(name)"
            do {
                try await runner.download(cat.text, to: path, sha256: sha256, size: size, timeout: .seconds(6 * 3600))
            } catch let error as DownloadError {
                throw BackupDownloadError(file: name, detail: error.description)
            }
            written.append(path)
        }
        return written
    }
}
