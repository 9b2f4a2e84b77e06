@testable import BotOpsKit
import Cron
import SandboxSupport
import Testing

/// The shipped crontab.d as parsed (no host): the daily backup at 16:30 New York time, run by
/// the host's own botops.
@Suite struct ShippedEntriesTests {
    @Test func theShippedBackupEntryParsesAsADailyNewYorkJobRunningTheHostsBotops() throws {
        let backup = try #require(try CronEntries.load(directory: BuiltBinary.packageRoot + "/crontab.d").first { $0.name == "backup" })
        #expect(backup.zone?.identifier == "America/New_York")
        #expect(backup.schedule.text == "30 16 * * *")
        #expect(backup.parsedCommand.programs == ["$HOME/botops/bin/botops"])
        let weekly = try #require(try CronEntries.load(directory: BuiltBinary.packageRoot + "/crontab.d").first { $0.name == "weekly-verify" })
        #expect(weekly.parsedCommand.programs == ["$HOME/botops/bin/botops"])
    }
}
