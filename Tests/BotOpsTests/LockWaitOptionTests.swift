import ArgumentParser
@testable import botops
import Testing

/// A lock held by someone else is refused with "Wait for it (--lock-wait 10m)": every command
/// that takes the deploy lock must accept that advice as given.
@Suite struct LockWaitOptionTests {
    static let lockTakers: [(String, any ParsableCommand.Type, [String])] = [
        ("deploy", Deploy.self, ["--service", "sighook"]),
        ("rollback", Rollback.self, ["--service", "sighook"]),
        ("backup", BackupCommand.self, []),
        ("backups keep", BackupsCommand.Keep.self, ["20261201T000000Z"]),
        ("restore", RestoreCommand.self, ["latest"]),
        ("cron install", CronInstall.self, []),
        ("cron remove", CronRemove.self, ["weekly"]),
        ("cron restore", CronRestore.self, ["latest"]),
        ("install-host", InstallHost.self, []),
    ]

    @Test(arguments: lockTakers.map(\.0))
    func theAdvisedLockWaitIsAccepted(_ name: String) throws {
        let (_, command, arguments) = try #require(Self.lockTakers.first { $0.0 == name })
        #expect(throws: Never.self, "\(name) --lock-wait 10m") { _ = try command.parseAsRoot(arguments + ["--lock-wait", "10m"]) }
    }
}
