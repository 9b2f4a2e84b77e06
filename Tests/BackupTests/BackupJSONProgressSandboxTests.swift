import BotOpsKit
import Foundation
import SandboxSupport
import Testing

/// `backup --format json`: stdout is the record alone (a script parses it), and the progress a
/// person watching needs still reaches stderr.
extension BackupSandboxTests {
    @Test func backupInJSONPrintsTheRecordAloneAndItsProgressOnStderr() async throws {
        try await BackupSandbox.scene { scene in
            let taken = try await scene.botops(["backup", "--no-verify", "--format", "json"], config: try scene.config())
            #expect(taken.termination == .exited(0), "\(taken.stderrText)")
            let lines = taken.stdoutText.split(separator: "\n")
            #expect(lines.count == 1 && BackupRecord.parse(taken.stdoutText) != nil, "\(taken.stdoutText)")
            #expect(taken.stderrText.contains("botops: dumping bot_trader_db from the db container"), "\(taken.stderrText)")
        }
    }
}
