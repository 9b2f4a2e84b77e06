import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// A verification that will write the verify template (none kept yet) on backup.dir's disk needs
/// room for it too: on a 100 MB disk holding backup.dir and the state directory, with
/// backup.min_free_disk 70 MB, a verified backup is refused before anything is written, and one
/// with --no-verify (no template written) goes ahead.
extension BackupSandboxTests {
    @Test func theTemplateAVerificationWillWriteCountsAgainstMinFreeDisk() async throws {
        try await BackupSandbox.scene { scene in
            let disk = scene.directory + "/disk"
            try await BackupSandbox.sh("mkdir \(shellQuote(disk)) && mount -t tmpfs -o size=100m,mode=0755 botops-backup-test \(shellQuote(disk)) && install -d -o bot -g bot -m 750 \(shellQuote(disk + "/state")) \(shellQuote(disk + "/backups"))")
            let verified: CommandResult, unverified: CommandResult
            do {
                let config = try scene.config(dir: disk + "/backups", minFreeDisk: "70MB")
                try ("state_dir: \(disk)/state\n" + String(contentsOfFile: config, encoding: .utf8)).write(toFile: config, atomically: true, encoding: .utf8)
                verified = try await scene.botops(["backup"], config: config)
                unverified = try await scene.botops(["backup", "--no-verify"], config: config)
            } catch {
                try await Self.unmount(disk)
                throw error
            }
            try await Self.unmount(disk)
            #expect(verified.termination == .exited(4), "\(verified.stderrText)")
            #expect(verified.stderrText.contains("for the verification's template"), "\(verified.stderrText)")
            #expect(unverified.termination == .exited(0), "\(unverified.stderrText)")
        }
    }

    /// A throwaway server's bind mount of the dump may hold the disk a moment after its removal.
    static func unmount(_ disk: String) async throws {
        try await waitUntil { (try? await BackupSandbox.sh("umount \(shellQuote(disk))")) != nil }
    }
}
