@testable import BotOpsKit
import Foundation
import Remote
import Testing

/// install-host copies the playbook overrides that lie beside botops.yml; a `playbooks:`
/// directory elsewhere is refused (exit 2, before the host is reached) with the fix, never
/// skipped: the host's botops.yml would name a directory it does not have, and deploys there
/// would use the built-in playbooks unseen.
@Suite struct HostInstallPlaybooksTests {
    func operatorDirectory(playbooks: String) throws -> (URL, String, BotOpsConfig) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("botops-install-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("pb"), withIntermediateDirectories: true)
        try "steps: []\n".write(to: directory.appendingPathComponent("pb/deploy.yml"), atomically: true, encoding: .utf8)
        let yaml = "host: h\nplaybooks: \(playbooks)\n"
        let path = directory.appendingPathComponent("botops.yml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return (directory, path, try BotOpsConfig.parse(yaml, file: path))
    }

    @Test(arguments: ["/srv/botops/pb", "../pb", "pb/../../pb"])
    func aPlaybooksDirectoryOutsideBotopsYmlsIsRefusedWithTheFix(_ playbooks: String) throws {
        let (directory, path, config) = try operatorDirectory(playbooks: playbooks)
        defer { try? FileManager.default.removeItem(at: directory) }
        let error = try #require(throws: ConfigError.self) { try HostInstall(binary: "/bin/true", configPath: path, config: config) }
        #expect(error.exitCode == .usage)
        #expect(error.key == "playbooks")
        #expect(error.description.contains("\(playbooks) lies outside botops.yml's directory"), "\(error)")
        #expect(error.description.contains("Move the overrides into \(directory.path)/playbooks and set `playbooks: playbooks`"), "\(error)")
        #expect(error.description.contains("nothing was copied"))
    }

    @Test func overridesBesideBotopsYmlAreCopiedWhereItNamesThem() throws {
        let (directory, path, config) = try operatorDirectory(playbooks: "pb")
        defer { try? FileManager.default.removeItem(at: directory) }
        let install = try HostInstall(binary: "/bin/true", configPath: path, config: config)
        #expect(install.files.contains(HostInstall.File(local: directory.path + "/pb/deploy.yml", remote: "pb/deploy.yml", mode: "644")))
        #expect(!install.skipped.contains { $0.what.contains("pb") })
    }

    /// An override deleted here is deleted there: the host's deploys would still run the old one.
    @Test func overridesDeletedHereAreRemovedThere() async throws {
        let (directory, path, config) = try operatorDirectory(playbooks: "pb")
        defer { try? FileManager.default.removeItem(at: directory) }
        let install = try HostInstall(binary: "/bin/true", configPath: path, config: config)
        #expect(install.overridesToRemove == ["pb/rollback.yml", "pb/recover.yml"])

        // On a home holding all three (and a file of its own), only those two go.
        let home = directory.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home.appendingPathComponent("botops/pb"), withIntermediateDirectories: true)
        for name in ["deploy.yml", "rollback.yml", "notes.txt"] { try "".write(to: home.appendingPathComponent("botops/pb/" + name), atomically: true, encoding: .utf8) }
        let probe = InstallCommands.removeFiles(install.overridesToRemove)
        let result = try await LocalHost().run("HOME=\(shellQuote(home.path)); export HOME\n" + probe.command.script.text)
        #expect(try probe.parse(result) == ["pb/rollback.yml"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: home.appendingPathComponent("botops/pb").path).sorted() == ["deploy.yml", "notes.txt"])
    }

    /// recover reads recover.yml from the same directory: the host's `recover --local` must run
    /// the operator's steps, not the built-in ones unseen.
    @Test func theRecoverPlaybookIsCopiedToo() throws {
        let (directory, path, config) = try operatorDirectory(playbooks: "pb")
        defer { try? FileManager.default.removeItem(at: directory) }
        try "steps: []\n".write(to: directory.appendingPathComponent("pb/recover.yml"), atomically: true, encoding: .utf8)
        let install = try HostInstall(binary: "/bin/true", configPath: path, config: config)
        #expect(install.files.contains(HostInstall.File(local: directory.path + "/pb/recover.yml", remote: "pb/recover.yml", mode: "644")), "\(install.files)")
    }
}
