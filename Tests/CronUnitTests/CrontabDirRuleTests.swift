@testable import BotOpsKit
import Cron
import Foundation
import Remote
import SandboxSupport
import Testing

/// The one crontab.d rule (`CronEntries.managed`): a missing crontab.d beside botops.yml is no
/// entries for verify, blackout, gate, status and recover, and an error for `cron diff/install/list`;
/// a `--crontab-dir` that cannot be read is an error everywhere. No host needed: the config names
/// a port nothing listens on, so a command that gets past its entries stops at the connection.
@Suite struct CrontabDirRuleTests {
    /// A botops.yml with no crontab.d beside it.
    func configAlone() throws -> (directory: URL, config: String) {
        let directory = try temporaryDirectory()
        let config = directory.appendingPathComponent("botops.yml").path
        try "host: bot@127.0.0.1:1\n".write(toFile: config, atomically: true, encoding: .utf8)
        return (directory, config)
    }

    @Test func aMissingCrontabDBesideTheConfigIsNoEntriesAndAMissingCrontabDirAnError() throws {
        let (directory, config) = try configAlone()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try CronEntries.managed(crontabDirectory: nil, configPath: config).isEmpty)
        #expect(throws: EntryError.self) {
            try CronEntries.managed(crontabDirectory: directory.appendingPathComponent("nowhere").path, configPath: config)
        }
        let beside = directory.appendingPathComponent("crontab.d")
        try FileManager.default.createDirectory(at: beside, withIntermediateDirectories: true)
        try weeklyEntryText.write(to: beside.appendingPathComponent("weekly.cron"), atomically: true, encoding: .utf8)
        #expect(try CronEntries.managed(crontabDirectory: nil, configPath: config).map(\.name) == ["weekly"])
    }

    /// Something at crontab.d beside botops.yml that is not a readable directory (a file in its
    /// place, a link to nowhere) is an error, never "no entries": blackout would let a deploy
    /// through a window, verify and gate would pass without judging the schedule.
    @Test func aCrontabDThatIsNotADirectoryIsAnErrorNotNoEntries() throws {
        let (directory, config) = try configAlone()
        defer { try? FileManager.default.removeItem(at: directory) }
        let beside = directory.appendingPathComponent("crontab.d")
        try "not a directory\n".write(to: beside, atomically: true, encoding: .utf8)
        #expect(throws: EntryError.self, "a file in place of crontab.d") {
            try CronEntries.managed(crontabDirectory: nil, configPath: config)
        }
        try FileManager.default.removeItem(at: beside)
        try FileManager.default.createSymbolicLink(atPath: beside.path, withDestinationPath: directory.appendingPathComponent("gone").path)
        #expect(throws: EntryError.self, "crontab.d a link to nowhere") {
            try CronEntries.managed(crontabDirectory: nil, configPath: config)
        }
    }

    @Test func gateGoesOnWithoutCrontabDAndTheCronCommandsRefuse() async throws {
        let (directory, config) = try configAlone()
        defer { try? FileManager.default.removeItem(at: directory) }
        let gate = try await BuiltBinary.botops.run(["gate", "--config", config])
        #expect(gate.termination == .exited(3), "gate reaches the host step: \(gate.stdoutText)\(gate.stderrText)")
        #expect(!gate.stderrText.contains("cannot read the directory"))

        let list = try await BuiltBinary.botops.run(["cron", "list", "--config", config])
        #expect(list.termination == .exited(2), "\(list.stdoutText)\(list.stderrText)")
        #expect(list.stderrText.contains("cannot read the directory"))

        let explicit = try await BuiltBinary.botops.run(["gate", "--config", config, "--crontab-dir", directory.appendingPathComponent("nowhere").path])
        #expect(explicit.termination == .exited(2), "\(explicit.stdoutText)\(explicit.stderrText)")
        #expect(explicit.stderrText.contains("cannot read the directory"))
    }
}
