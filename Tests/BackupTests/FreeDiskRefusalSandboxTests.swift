import BotOpsKit
import Foundation
import SandboxSupport
import Testing

/// Restore's low-disk refusal reads the database's disk inside the db container through the one
/// free-disk probe (backup's refusal is `BackupSandboxTests.lowDiskIsRefusedBeforeAnythingIsWritten`).
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct FreeDiskRefusalSandboxTests {
    @Test func aRestoreWithoutRoomForASecondCopyIsRefusedBeforeAnythingChanges() async throws {
        try await BackupSandbox.scene { scene in
            let record = try await scene.unverifiedBackup(config: try scene.config())
            let result = try await scene.botops(["restore", record.id, "--yes"], config: try scene.config(minFreeDisk: "1000TB"))
            #expect(result.termination == .exited(4), "\(result.stdoutText) \(result.stderrText)")
            // A disk the probe could not read would say 0 B free: the line was read.
            #expect(result.stderrText.contains("free on the database's disk") && !result.stderrText.contains("0 B free"), "\(result.stderrText)")
            #expect(try await BackupSandbox.sh("docker inspect -f '{{.State.Running}}' sighook webhook report-job db") == "true\ntrue\ntrue\ntrue")
        }
    }
}
