import BotOpsKit
import Foundation
import SandboxSupport
import Testing

/// A damaged dump and a failed drop of scratch databases left by earlier verifications, in the
/// same `restore --test`: the damage is the first cause and is what botops reports, the failed
/// drop is mentioned beside it (before, the drop's error hid that the dump is damaged).
extension BackupSandboxTests {
    @Test func aDamagedDumpIsReportedEvenWhenTheDropOfLeftScratchDatabasesFails() async throws {
        try await BackupSandbox.scene { scene in
            // The drop's token check (its psql) kills its own script's process group: the drop fails.
            let path = try await scene.dockerWithoutThrowawayServer(cases: """
                  *"token="*) kill -KILL 0;;
                """)
            let config = try scene.config()
            let record = try await scene.unverifiedBackup(config: config)
            let backups = scene.directory + "/backups"
            // A marker that makes the drop look at the live server; one byte of the dump changed (same size).
            try await BackupSandbox.sh("""
                cd \(shellQuote(backups)) && echo 'botops scratch test' > .botops-scratch-botops_verify_zz \
                  && printf x | dd of=\(shellQuote(record.id + ".dump")) bs=1 seek=100 conv=notrunc status=none
                """)
            let result = try await BuiltBinary.botops.run(["restore", record.id, "--test", "--local", "--config", config], environment: ["PATH": path])
            #expect(result.termination == .exited(1), "\(result.stderrText)")
            #expect(result.stderrText.contains("sha256 differs"), "\(result.stderrText)")
            #expect(result.stderrText.contains("besides, dropping scratch databases left by earlier verifications failed"), "\(result.stderrText)")
        }
    }
}
