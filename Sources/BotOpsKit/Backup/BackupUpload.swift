import Foundation
import HostCommands
import Remote

/// Why a local backup file could not be taken to the host.
public struct BackupUploadError: Error, CustomStringConvertible, ExitCodeProviding {
    public let description: String
    public let exitCode: BotOpsExitCode
}

/// `restore PATH/ID.dump`: a backup on this machine (downloaded, or an off-host copy) with its
/// record `ID.json` beside it, streamed to backup.dir over the same connection (constant memory)
/// and named `ID.dump` there only when its size and sha256 on the host equal the record's.
public struct BackupUpload: Sendable {
    public let scripts: BackupScripts
    public let runner: any CommandRunner

    public init(config: BotOpsConfig, runner: any CommandRunner) {
        scripts = BackupScripts(config: config)
        self.runner = runner
    }

    /// Whether a `restore` argument names a local dump rather than a backup id.
    public static func isLocalFile(_ argument: String) -> Bool {
        (argument.contains("/") || argument.hasSuffix(".dump")) && FileManager.default.fileExists(atPath: argument)
    }

    /// Uploads `path` unless backup.dir has the same dump already, and writes its record there
    /// when missing; returns the record.
    public func run(localDump path: String) async throws -> BackupRecord {
        let recordPath = (path.hasSuffix(".dump") ? String(path.dropLast(5)) : path) + ".json"
        guard let text = try? String(contentsOfFile: recordPath, encoding: .utf8), let record = BackupRecord.parse(text) else {
            throw BackupUploadError(description: "\(path) has no readable record beside it (\(recordPath)); a backup is restored with the record its figures are checked against",
                                    exitCode: .usage)
        }
        // The id names files in backup.dir: only a backup's own name (no `/`, no `..`).
        guard BackupID.parse(record.id)?.text == record.id, record.sha256.count == 64, record.sha256.allSatisfy(\.isHexDigit) else {
            throw BackupUploadError(description: "\(recordPath) is not a backup record: its id \(record.id.debugDescription) is not a backup's name (YYYYMMDDTHHMMSSZ[-LABEL])"
                                        + " or its sha256 is not 64 hex digits; nothing was uploaded", exitCode: .usage)
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BackupUploadError(description: "cannot read \(path): \(String(cString: strerror(errno)))", exitCode: .usage) }
        defer { close(descriptor) }
        let result = try await runner.run(upload(record), input: .fileDescriptor(descriptor)).result
        guard result.succeeded else {
            throw BackupUploadError(description: "uploading \(path) failed, nothing was named \(record.id).dump on the host: "
                                        + result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines), exitCode: .failed)
        }
        if !result.stdoutText.split(separator: "\n").contains("record") {
            let written = try await runner.run(scripts.writeRecord(record))
            guard written.succeeded else { throw BackupUploadError(description: "writing \(record.id).json on the host failed: \(written.shownOutput)", exitCode: .failed) }
        }
        return record
    }

    /// Reads the dump on stdin into a temporary file in backup.dir and renames it `ID.dump` when its
    /// size and sha256 are the record's; a dump already there with that sha256 is kept (prints
    /// `present`). Prints `record` when `ID.json` exists; one naming another sha256 refuses, so
    /// no dump is named beside a record it does not match.
    func upload(_ record: BackupRecord) -> RemoteCommand {
        let dump = record.id + ".dump"
        return RemoteCommand("""
            umask 027
            want_size=\(String(record.size)) want_sum=\(record.sha256)
            mkdir -p -- \(scripts.directory.script) && cd \(scripts.directory.script) || { echo "cannot enter the backup directory" >&2; exit 70; }
            if [ -e \(record.id + ".json") ]; then
              grep -q "$want_sum" \(record.id + ".json") || { echo "backup.dir has a record $(printf %s \(record.id + ".json")) with another sha256; move it away first" >&2; exit 97; }
              echo record
            fi
            if [ -e \(dump) ]; then
              sum=$(sha256sum <\(dump)) || exit 70
              [ "${sum%% *}" = "$want_sum" ] && { echo present; exit 0; }
              echo "backup.dir has a different $(printf %s \(dump)) already; move it away first" >&2; exit 97
            fi
            tmp=$(mktemp .botops-upload-XXXXXX) || { echo "cannot create a temporary file in the backup directory" >&2; exit 70; }
            trap 'rm -f "$tmp"' EXIT
            trap 'exit 130' INT TERM HUP
            cat >"$tmp" || { echo "writing the upload failed" >&2; exit 95; }
            size=$(stat -c %s "$tmp") && sum=$(sha256sum <"$tmp") || exit 95
            [ "$size" = "$want_size" ] || { echo "$size bytes arrived, $want_size expected" >&2; exit 96; }
            [ "${sum%% *}" = "$want_sum" ] || { echo "the sha256 of what arrived is ${sum%% *}, the record says $want_sum" >&2; exit 96; }
            chmod 640 "$tmp" && sync "$tmp" && mv "$tmp" \(dump) && sync . || { echo "could not name the dump" >&2; exit 95; }
            echo uploaded
            """, timeout: .seconds(6 * 3600), effect: .changes("uploads \(dump) into \(scripts.directory.path)"))
    }
}
