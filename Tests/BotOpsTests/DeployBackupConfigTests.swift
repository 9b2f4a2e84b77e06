import BotOpsKit
import Testing

/// `deploy.backup` in botops.yml: off by default, `true`/`false` only.
@Suite struct DeployBackupConfigTests {
    @Test func deployBackupIsOffUnlessSetToTrue() throws {
        #expect(try BotOpsConfig.parse("host: h\n").deploy.backup == false)
        #expect(try BotOpsConfig.parse("host: h\ndeploy: {min_free_disk: 1GB}\n").deploy.backup == false)
        #expect(try BotOpsConfig.parse("host: h\ndeploy: {backup: true}\n").deploy.backup == true)
        #expect(try BotOpsConfig.parse("host: h\ndeploy: {backup: false}\n").deploy.backup == false)
        #expect(throws: ConfigError.self) { try BotOpsConfig.parse("host: h\ndeploy: {backup: daily}\n") }
    }
}
