import Foundation
import HostCommands
import Remote

/// `backup.host_files: true`: the checkout's `logs/` and `.env` (the host files the operator's
/// documents back up) archived beside the dump as `ID.host-files.tar.gz`, mode 600 (`.env` holds
/// secrets), written to a temporary file and renamed when whole.
public struct BackupHostFiles: Sendable {
    public let scripts: BackupScripts
    public let runner: any CommandRunner

    public init(config: BotOpsConfig, runner: any CommandRunner) {
        scripts = BackupScripts(config: config)
        self.runner = runner
    }

    public static func fileName(_ id: String) -> String { id + ".host-files.tar.gz" }

    /// Archives what exists of `logs/` and `.env`; returns the archive's name, or nil when the
    /// checkout has neither. Throws with the host's words when the archive could not be written.
    public func run(_ id: String) async throws -> String? {
        let result = try await runner.run(archive(id))
        guard result.succeeded else { throw BackupError.hostCommandFailed(step: "archiving logs/ and .env", detail: result.shownOutput) }
        return result.stdout.split(separator: "\n").contains("archived") ? Self.fileName(id) : nil
    }

    /// GNU tar's status 1 (a log file grew while it was read) still leaves a whole archive.
    func archive(_ id: String) -> RemoteCommand {
        RemoteCommand("""
            set --
            [ -e \(scripts.checkout + "/logs") ] && set -- "$@" logs
            [ -e \(scripts.checkout + "/.env") ] && set -- "$@" .env
            [ $# -gt 0 ] || exit 0
            umask 077
            cd \(scripts.directory.script) || exit 70
            tmp=$(mktemp .botops-host-files-XXXXXX) || exit 70
            trap 'rm -f "$tmp"' EXIT
            tar -czf "$tmp" -C \(scripts.checkout) -- "$@"
            status=$?
            [ "$status" -le 1 ] || { echo "tar ended with status $status" >&2; exit 77; }
            chmod 600 "$tmp" && sync "$tmp" && mv "$tmp" \(Self.fileName(id)) && sync . || exit 77
            echo archived
            """, timeout: .seconds(3600), effect: .changes("archives logs/ and .env beside \(id).dump"))
    }
}
