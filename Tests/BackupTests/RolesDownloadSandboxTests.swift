import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// `--download` checks the roles file against the record's sha256: one altered on the host
/// after the backup wrote it (here by a `sha256sum` first on PATH that changes its first byte, at
/// the same size, just before the download reads it) is refused before anything is downloaded, exit 1.
extension BackupSandboxTests {
    @Test func aRolesFileAlteredOnTheHostIsNotDownloaded() async throws {
        try await BackupSandbox.scene { scene in
            let bin = scene.directory + "/bin"
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            let real = try await BackupSandbox.sh("command -v sha256sum")
            // Only the download's read of ID.roles.sql, which comes through stdin (the backup's own
            // sums name their file as an argument, and it is not named *.roles.sql then).
            try await BackupSandbox.sh("""
                cat >\(shellQuote(bin + "/sha256sum")) <<'FAKE'
                #!/bin/sh
                input=$(readlink /proc/$$/fd/0)
                case "$#:$input" in 0:*.roles.sql) printf X | dd of="$input" bs=1 conv=notrunc 2>/dev/null;; esac
                exec \(shellQuote(real)) "$@"
                FAKE
                chmod 755 \(shellQuote(bin + "/sha256sum"))
                """)
            let environment = ["PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]
            let local = scene.directory + "/local"
            let result = try await BuiltBinary.botops.run(["backup", "--local", "--no-verify", "--download", local, "--config", try scene.config()],
                                                          environment: environment)
            let recordFile = try #require(scene.files().first { $0.hasSuffix(".json") }, "the backup on the host: \(scene.files())")
            let record = try #require(BackupRecord.parse(try String(contentsOfFile: scene.directory + "/backups/" + recordFile, encoding: .utf8)))
            #expect(result.termination == .exited(1), "\(result.stderrText)")
            #expect(result.stderrText.contains("downloading \(record.id).roles.sql failed") && result.stderrText.contains("was altered or damaged since the backup"),
                    "\(result.stderrText)")
            #expect(scene.files(in: local) == [], "nothing downloaded: \(scene.files(in: local))")
        }
    }
}
