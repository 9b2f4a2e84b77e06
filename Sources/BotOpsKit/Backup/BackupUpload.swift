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
/// and named `ID.dump` there only when its size and sha256 on the host equal the record's. Its
/// roles `ID.roles.sql`, when beside it, go first: refused when their sha256 is not the record's
/// (a record without one leaves them unchecked), named only when what arrived equals this machine's file.
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
    /// when missing; returns the record. `warn` hears that the roles were not beside the dump.
    public func run(localDump path: String, warn: (String) -> Void = { _ in }) async throws -> BackupRecord {
        let stem = path.hasSuffix(".dump") ? String(path.dropLast(5)) : path
        let recordPath = stem + ".json"
        guard let text = try? String(contentsOfFile: recordPath, encoding: .utf8), let record = BackupRecord.parse(text) else {
            throw BackupUploadError(description: "\(path) has no readable record beside it (\(recordPath)); a backup is restored with the record its figures are checked against",
                                    exitCode: .usage)
        }
        // The id names files in backup.dir: only a backup's own name (no `/`, no `..`).
        guard BackupID.parse(record.id)?.text == record.id, record.sha256.count == 64, record.sha256.allSatisfy(\.isHexDigit) else {
            throw BackupUploadError(description: "\(recordPath) is not a backup record: its id \(record.id.debugDescription) is not a backup's name (YYYYMMDDTHHMMSSZ[-LABEL])"
                                        + " or its sha256 is not 64 hex digits; nothing was uploaded", exitCode: .usage)
        }
        let rolesPath = stem + ".roles.sql", roles = BackupRoles.fileName(record.id)
        if FileManager.default.fileExists(atPath: rolesPath) {
            guard let bytes = FileManager.default.contents(atPath: rolesPath) else {
                throw BackupUploadError(description: "cannot read \(rolesPath); nothing was uploaded", exitCode: .usage)
            }
            let sum = StreamingSHA256.hex(of: bytes)
            if let recorded = record.rolesSha256, sum != recorded {
                throw BackupUploadError(description: BackupRoles.mismatch(rolesPath, found: sum, recorded: recorded, where: "on this machine") + "; nothing was uploaded",
                                        exitCode: .failed)
            }
            try await send(rolesPath, as: roles, upload(roles, size: Int64(bytes.count), sha256: sum, mode: "600", after: checkRecord(record)))
        } else {
            warn("\(rolesPath) is not there: \(record.id) uploaded without its roles (restore --test needs them; a full restore uses the cluster's own roles)")
        }
        let result = try await send(path, as: record.id + ".dump", uploadDump(record))
        if !result.stdoutText.split(separator: "\n").contains("record") {
            let written = try await runner.run(scripts.writeRecord(record))
            guard written.succeeded else { throw BackupUploadError(description: "writing \(record.id).json on the host failed: \(written.shownOutput)", exitCode: .failed) }
        }
        return record
    }

    /// Runs `command`, which names `name` in backup.dir, with the local file `path` on its stdin.
    @discardableResult
    private func send(_ path: String, as name: String, _ command: RemoteCommand) async throws -> CommandResult {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BackupUploadError(description: "cannot read \(path): \(String(cString: strerror(errno)))", exitCode: .usage) }
        defer { close(descriptor) }
        let result = try await runner.run(command, input: .fileDescriptor(descriptor)).result
        guard result.succeeded else {
            throw BackupUploadError(description: "uploading \(path) failed, nothing was named \(name) on the host: "
                                        + result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines), exitCode: .failed)
        }
        return result
    }

    /// The dump, as `upload` takes a file, after `checkRecord`.
    func uploadDump(_ record: BackupRecord) -> RemoteCommand {
        upload(record.id + ".dump", size: record.size, sha256: record.sha256, mode: "640", after: checkRecord(record))
    }

    /// Prints `record` when `ID.json` exists; one naming another sha256 refuses (exit 97), so
    /// neither a dump nor roles are named beside a record they do not belong to.
    func checkRecord(_ record: BackupRecord) -> ShellScript {
        """
        if [ -e \(record.id + ".json") ]; then
          grep -q \(record.sha256) \(record.id + ".json") || { echo "backup.dir has a record $(printf %s \(record.id + ".json")) with another sha256; move it away first" >&2; exit 97; }
          echo record
        fi
        """
    }

    /// Reads a file on stdin into a temporary file in backup.dir (run after `after`) and renames it
    /// `name` (with `mode`) when its size and sha256 are the wanted ones; a file already there with
    /// that sha256 is kept (prints `present`), another one refuses (exit 97).
    func upload(_ name: String, size: Int64, sha256: String, mode: String, after: ShellScript = "") -> RemoteCommand {
        RemoteCommand("""
            umask 027
            want_size=\(String(size)) want_sum=\(sha256)
            mkdir -p -- \(scripts.directory.script) && cd \(scripts.directory.script) || { echo "cannot enter the backup directory" >&2; exit 70; }
            \(after)
            if [ -e \(name) ]; then
              sum=$(sha256sum <\(name)) || exit 70
              [ "${sum%% *}" = "$want_sum" ] && { echo present; exit 0; }
              echo "backup.dir has a different $(printf %s \(name)) already; move it away first" >&2; exit 97
            fi
            tmp=$(mktemp .botops-upload-XXXXXX) || { echo "cannot create a temporary file in the backup directory" >&2; exit 70; }
            trap 'rm -f "$tmp"' EXIT
            trap 'exit 130' INT TERM HUP
            cat >"$tmp" || { echo "writing the upload failed" >&2; exit 95; }
            size=$(stat -c %s "$tmp") && sum=$(sha256sum <"$tmp") || exit 95
            [ "$size" = "$want_size" ] || { echo "$size bytes arrived, $want_size expected" >&2; exit 96; }
            [ "${sum%% *}" = "$want_sum" ] || { echo "the sha256 of what arrived is ${sum%% *}, expected $want_sum" >&2; exit 96; }
            chmod \(mode) "$tmp" && sync "$tmp" && mv "$tmp" \(name) && sync . || { echo "could not name $(printf %s \(name))" >&2; exit 95; }
            echo uploaded
            """, timeout: .seconds(6 * 3600), effect: .changes("uploads \(name) into \(scripts.directory.path)"))
    }
}

/// `ID.roles.sql`: the cluster's roles (`pg_dumpall --roles-only`), written beside each dump, its
/// sha256 in the record. `restore --test` creates them in its throwaway server before restoring
/// the dump into it; a full restore creates those the server lacks.
public enum BackupRoles {
    public static func fileName(_ id: String) -> String { id + ".roles.sql" }

    /// What backup.dir holds of a backup's roles file.
    public enum Presence: Sendable, Equatable {
        /// Not there (a backup uploaded without it).
        case absent
        /// There, its sha256 the record's.
        case intact
        /// There, but its record has no sha256 of it (written before botops recorded one).
        case unchecked
    }

    /// Checks `ID.roles.sql` in backup.dir against the record's sha256 before a restore uses it;
    /// refuses one that differs (exit 1), naming the file and what to do.
    public static func check(_ record: BackupRecord, scripts: BackupScripts, runner: any CommandRunner) async throws -> Presence {
        let name = fileName(record.id)
        let probe = try await runner.run(RemoteCommand("cd \(scripts.directory.script) || exit 70; if [ -f \(name) ]; then sha256sum -- \(name); else echo absent; fi", timeout: .seconds(300)))
        guard probe.succeeded else { throw RestoreError.failed("cannot read \(name) in backup.dir (\(scripts.directory.path)): \(probe.shownOutput)") }
        if probe.stdout.hasPrefix("absent") { return .absent }
        guard let recorded = record.rolesSha256 else { return .unchecked }
        let sum = String(probe.stdout.prefix(64))
        guard sum == recorded else { throw RestoreError.damaged(id: record.id, detail: mismatch(name, found: sum, recorded: recorded, where: "in backup.dir (\(scripts.directory.path))")) }
        return .intact
    }

    /// What a restore says of a roles file whose record holds no sha256 of it.
    static func uncheckedNote(_ file: String) -> String {
        "the record holds no sha256 of \(file) (a backup from before botops recorded one): it is used unchecked"
    }

    /// Why a roles file whose sha256 is not the record's is refused, and what to do.
    static func mismatch(_ file: String, found: String, recorded: String, where place: String) -> String {
        "\(file) \(place) was altered or damaged since the backup: its sha256 is \(found), the record's \(recorded). "
            + "Put back a copy whose sha256 is the record's (backup --download and backup.push keep one), or move the file away "
            + "to restore without it (a full restore then creates no missing role; restore --test needs it)"
    }

    /// Refuses (exit 2) a `restore --test` of a backup whose roles are not in backup.dir (one
    /// uploaded without them), before any server starts: the dump's owner and grants name roles
    /// that only this file creates there; and (exit 1) one whose sha256 is not the record's.
    /// `warn` hears that the file is used unchecked (an older record without its sha256).
    public static func requirePresent(_ record: BackupRecord, scripts: BackupScripts, runner: any CommandRunner, warn: (String) -> Void) async throws {
        let id = record.id, name = fileName(id)
        let presence = try await check(record, scripts: scripts, runner: runner)
        if presence == .unchecked { warn(uncheckedNote(name)) }
        guard presence == .absent else { return }
        throw BackupUploadError(description: "no \(name) in backup.dir (\(scripts.directory.path)): restore --test creates the roles the dump's objects belong to "
                                    + "from it first. Put \(name) (written beside \(id).dump by `backup --download`) beside the local dump and run "
                                    + "restore PATH/\(id).dump --test again; a full restore does not need it", exitCode: .usage)
    }
}
