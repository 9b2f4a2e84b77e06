import BotOpsKit
import Foundation
import Testing

struct VerifyOnLiveTests {
    @Test func verifyOnLiveIsOffUnlessSetAndTakesOnlyTrueOrFalse() throws {
        #expect(try BotOpsConfig.parse("host: h\nbackup: {dir: /srv/b}\n").backup.verifyOnLive == false)
        #expect(try BotOpsConfig.parse("host: h\nbackup: {verify_on_live: true}\n").backup.verifyOnLive)
        #expect(throws: (any Error).self) { try BotOpsConfig.parse("host: h\nbackup: {verify_on_live: yes}\n") }
    }

    /// The scratch database is botops's by its name's prefix and the backup's id, a plain identifier.
    @Test func scratchDatabaseIsNamedAfterTheBackup() throws {
        let scripts = BackupScripts(config: try BotOpsConfig.parse("host: h\n"))
        let id = try #require(BackupID.parse("20261205T023000Z-Pre.deploy-1"))
        #expect(scripts.scratchDatabase(id) == "botops_verify_20261205t023000z_pre_deploy_1")
    }
}
