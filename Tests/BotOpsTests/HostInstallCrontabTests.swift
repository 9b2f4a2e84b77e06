@testable import BotOpsKit
import Foundation
import Testing

/// install-host mirrors crontab.d beside botops.yml onto the host, pruning there what is gone
/// here. Only a crontab.d that was read may prune: an unreadable one (a file in its place, a link
/// to nowhere) read as empty would delete every entry on the host, where verify, gate and the
/// blackout guard of `--local` runs read them.
@Suite struct HostInstallCrontabTests {
    func operatorDirectory() throws -> (URL, String, BotOpsConfig) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("botops-install-cron-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let yaml = "host: h\n"
        let path = directory.appendingPathComponent("botops.yml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return (directory, path, try BotOpsConfig.parse(yaml, file: path))
    }

    @Test(arguments: ["file", "dangling link"])
    func anUnreadableCrontabDirectoryIsRefusedNotReadAsEmpty(_ kind: String) throws {
        let (directory, path, config) = try operatorDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let crontab = directory.appendingPathComponent("crontab.d").path
        if kind == "file" {
            try "x\n".write(toFile: crontab, atomically: true, encoding: .utf8)
        } else {
            try FileManager.default.createSymbolicLink(atPath: crontab, withDestinationPath: directory.appendingPathComponent("gone").path)
        }
        let error = try #require(throws: ConfigError.self) { try HostInstall(binary: "/bin/true", configPath: path, config: config) }
        #expect(error.exitCode == .usage)
        #expect(error.description.contains(crontab), "\(error)")
        #expect(error.description.contains("nothing was copied"), "\(error)")
    }

    @Test func noCrontabDirectoryLeavesTheHostsEntriesAlone() throws {
        let (directory, path, config) = try operatorDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let install = try HostInstall(binary: "/bin/true", configPath: path, config: config)
        #expect(install.pruneKeeping == nil)
        #expect(install.skipped.contains { $0.what == "crontab.d" && $0.why.contains("left as it is") }, "\(install.skipped)")
    }

    @Test func anEmptyCrontabDirectoryPrunesEverything() throws {
        let (directory, path, config) = try operatorDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("crontab.d"), withIntermediateDirectories: false)
        try "".write(to: directory.appendingPathComponent("crontab.d/a.cron"), atomically: true, encoding: .utf8)
        #expect(try HostInstall(binary: "/bin/true", configPath: path, config: config).pruneKeeping == ["a.cron"])
        try FileManager.default.removeItem(at: directory.appendingPathComponent("crontab.d/a.cron"))
        #expect(try HostInstall(binary: "/bin/true", configPath: path, config: config).pruneKeeping == [])
    }
}
