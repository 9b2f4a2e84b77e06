import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// `restore PATH/ID.dump` with a real shell on this machine as the host: what its record says is
/// checked before anything is written to backup.dir.
struct UploadTests {
    /// A scratch directory with `copy.dump`, its roles and a record beside it whose id is `id`.
    static func local(id: String) async throws -> (directory: String, dump: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("botops-upload-" + UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: directory + "/local", withIntermediateDirectories: true)
        let dump = directory + "/local/copy.dump"
        let sum = try await LocalHost().run("head -c 100000 /dev/urandom > \(shellQuote(dump)) && sha256sum < \(shellQuote(dump)) | cut -c1-64")
        var record = BackupRecord(id: BackupID(date: Date(), label: nil), database: "db", serverVersion: "15", size: 100_000,
                                  sha256: sum.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), tocDigest: "x",
                                  status: .verified, statusReason: nil, keep: false, tables: [], sequences: [])
        record.id = id
        try record.json.write(toFile: directory + "/local/copy.json", atomically: true, encoding: .utf8)
        try "CREATE ROLE bot_user;\n".write(toFile: directory + "/local/copy.roles.sql", atomically: true, encoding: .utf8)
        return (directory, dump)
    }

    @Test(arguments: ["../escaped", "not-an-id", "20261205T010000Z/../../escaped"])
    func aRecordWhoseIdIsNoBackupNameIsRefusedBeforeAnythingIsWritten(id: String) async throws {
        let local = try await Self.local(id: id)
        defer { try? FileManager.default.removeItem(atPath: local.directory) }
        let config = try BotOpsConfig.parse("host: h\nbackup: {dir: \(local.directory)/backups}\n")
        let error = await #expect(throws: BackupUploadError.self) {
            try await BackupUpload(config: config, runner: LocalHost()).run(localDump: local.dump)
        }
        #expect(error?.exitCode == .usage, "\(String(describing: error))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: local.directory).sorted() == ["local"], "nothing written beside or outside backup.dir")
    }

    @Test func aRecordOnTheHostWithAnotherSha256RefusesAndNoDumpIsNamedBesideIt() async throws {
        let local = try await Self.local(id: "20261205T010000Z")
        defer { try? FileManager.default.removeItem(atPath: local.directory) }
        var other = try #require(BackupRecord.parse(try String(contentsOfFile: local.directory + "/local/copy.json", encoding: .utf8)))
        other.sha256 = String(repeating: "0", count: 64)
        try FileManager.default.createDirectory(atPath: local.directory + "/backups", withIntermediateDirectories: true)
        try other.json.write(toFile: local.directory + "/backups/20261205T010000Z.json", atomically: true, encoding: .utf8)
        let config = try BotOpsConfig.parse("host: h\nbackup: {dir: \(local.directory)/backups}\n")
        let error = await #expect(throws: BackupUploadError.self) {
            try await BackupUpload(config: config, runner: LocalHost()).run(localDump: local.dump)
        }
        #expect(error?.description.contains("20261205T010000Z.json with another sha256") == true, "\(String(describing: error))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: local.directory + "/backups") == ["20261205T010000Z.json"], "neither the dump nor its roles")
    }

    /// The roles beside the local dump go along (mode 600: they hold password hashes); roles in
    /// backup.dir that differ refuse, and nothing else is named; without roles beside it, the
    /// upload goes on and says so.
    @Test func theRolesBesideTheDumpGoAlongAndOthersInBackupDirRefuse() async throws {
        let local = try await Self.local(id: "20261205T010000Z")
        defer { try? FileManager.default.removeItem(atPath: local.directory) }
        let config = try BotOpsConfig.parse("host: h\nbackup: {dir: \(local.directory)/backups}\n")
        let backups = local.directory + "/backups"
        try await BackupUpload(config: config, runner: LocalHost()).run(localDump: local.dump) { Issue.record("no warning expected: \($0)") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: backups).sorted() == ["20261205T010000Z.dump", "20261205T010000Z.json", "20261205T010000Z.roles.sql"])
        #expect(FileManager.default.contents(atPath: backups + "/20261205T010000Z.roles.sql") == FileManager.default.contents(atPath: local.directory + "/local/copy.roles.sql"))
        let mode = try FileManager.default.attributesOfItem(atPath: backups + "/20261205T010000Z.roles.sql")[.posixPermissions] as? Int
        #expect(mode == 0o600)

        try FileManager.default.removeItem(atPath: backups + "/20261205T010000Z.dump")
        try "CREATE ROLE other;\n".write(toFile: backups + "/20261205T010000Z.roles.sql", atomically: true, encoding: .utf8)
        let error = await #expect(throws: BackupUploadError.self) {
            try await BackupUpload(config: config, runner: LocalHost()).run(localDump: local.dump)
        }
        #expect(error?.description.contains("a different 20261205T010000Z.roles.sql already") == true, "\(String(describing: error))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: backups).sorted() == ["20261205T010000Z.json", "20261205T010000Z.roles.sql"], "no dump named")

        try FileManager.default.removeItem(atPath: backups + "/20261205T010000Z.roles.sql")
        try FileManager.default.removeItem(atPath: local.directory + "/local/copy.roles.sql")
        var warnings: [String] = []
        try await BackupUpload(config: config, runner: LocalHost()).run(localDump: local.dump) { warnings.append($0) }
        #expect(warnings.count == 1 && warnings[0].contains("copy.roles.sql is not there: 20261205T010000Z uploaded without its roles"), "\(warnings)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: backups).sorted() == ["20261205T010000Z.dump", "20261205T010000Z.json"])
    }
}
