import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// The documents' own restore process: the volume deleted and the db container recreated, then the
/// ledger restored from a copy on the operator's machine. Done on a db container and volume of this
/// test's own (same image and entrypoint as the sandbox's db), never the sandbox's.
extension BackupSandboxTests {
    @Test func aDownloadedBackupRestoresOntoARecreatedEmptyClusterAndACorruptCopyIsRefused() async throws {
        try await BackupSandbox.scene { scene in
            let local = scene.directory + "/operator copy"
            let taken = try await scene.botops(["backup", "--no-verify", "--format", "json", "--download", local])
            let record = try #require(BackupRecord.parse(taken.stdoutText), "\(taken.stderrText)")
            let dump = local + "/" + record.id + ".dump"
            // The roles come along, byte for byte: `restore --test` from this copy needs them.
            let roles = record.id + ".roles.sql"
            #expect(scene.files(in: local) == [record.id + ".dump", record.id + ".json", roles], "\(taken.stderrText)")
            #expect(FileManager.default.contents(atPath: local + "/" + roles) == FileManager.default.contents(atPath: scene.directory + "/backups/" + roles))
            #expect(try FileManager.default.attributesOfItem(atPath: local + "/" + roles)[.posixPermissions] as? Int == 0o600, "the roles' password hashes")
            // A copy without them: restore --test refuses, naming the file; a full restore goes on.
            let bare = scene.directory + "/without roles"
            try FileManager.default.createDirectory(atPath: bare, withIntermediateDirectories: true)
            try await BackupSandbox.sh("cp \(shellQuote(dump)) \(shellQuote(local + "/" + record.id + ".json")) \(shellQuote(bare))/")

            try await RecreatedCluster.with(scene) { cluster in
                func psql(_ sql: String) async throws -> String { try await cluster.psql(sql) }
                func config(_ dir: String) throws -> String { try cluster.config(dir) }
                let name = cluster.name

                // A copy damaged on the way is refused and leaves nothing named as the dump.
                let damaged = scene.directory + "/damaged"
                try FileManager.default.createDirectory(atPath: damaged, withIntermediateDirectories: true)
                try await BackupSandbox.sh("cp \(shellQuote(dump)) \(shellQuote(local + "/" + record.id + ".json")) \(shellQuote(damaged))/ && printf x | dd of=\(shellQuote(damaged + "/" + record.id + ".dump")) bs=1 seek=5000 conv=notrunc 2>/dev/null")
                let refused = try await scene.botops(["restore", damaged + "/" + record.id + ".dump", "--yes"], config: try config("refused"))
                #expect(refused.termination == .exited(1), "\(refused.stderrText)")
                #expect(refused.stderrText.contains("the sha256 of what arrived is"), "\(refused.stderrText)")
                #expect(scene.files(in: scene.directory + "/refused") == [], "no dump, record or temporary file")

                // From the downloaded copy into an empty backup.dir: the monthly restore test.
                let tested = try await scene.botops(["restore", dump, "--test"], config: try config("tested"))
                #expect(tested.termination == .exited(0), "\(tested.stderrText)")
                #expect(tested.stdoutText.contains("all \(record.tables.count) tables' figures equal the record"), "\(tested.stdoutText)")
                #expect(scene.files(in: scene.directory + "/tested") == [record.id + ".dump", record.id + ".json", roles])
                let refusedTest = try await scene.botops(["restore", bare + "/" + record.id + ".dump", "--test"], config: try config("bare"))
                #expect(refusedTest.termination == .exited(2), "\(refusedTest.stderrText)")
                #expect(refusedTest.stderrText.contains("uploaded without its roles") && refusedTest.stderrText.contains("no \(roles) in backup.dir"),
                        "\(refusedTest.stderrText)")
                #expect(!refusedTest.stderrText.contains("throwaway server from"), "refused before any server starts: \(refusedTest.stderrText)")

                // The recreated cluster's database exists and is empty: restored beside it and swapped in.
                let restored = try await scene.botops(["restore", dump, "--yes"], config: try config("uploaded"))
                #expect(restored.termination == .exited(0), "\(restored.stderrText)")
                #expect(restored.stdoutText.contains("all \(record.tables.count) tables' figures equal the record"), "\(restored.stdoutText)")
                #expect(scene.files(in: scene.directory + "/uploaded") == [record.id + ".dump", record.id + ".json", roles])
                let trades = try #require(record.tables.first { $0.name == "trade_records" })
                #expect(try await BackupSandbox.sh(shellCommand(["docker", "exec", name, "psql", "-X", "-At", "-U", "bot_user", "-d", "bot_trader_db", "-c",
                                                                 "SELECT count(*) FROM trade_records"])) == String(trades.rows))

                // No database at all: the restored one takes the name, nothing is swapped.
                for database in try await psql("SELECT datname FROM pg_database WHERE datname LIKE 'bot\\_trader\\_db%'").split(separator: "\n") {
                    _ = try await psql("DROP DATABASE \"\(database)\"")
                }
                let plan = try await scene.botops(["restore", dump, "--dry-run"], config: try config("uploaded"))
                #expect(plan.stdoutText.contains("bot_trader_db does not exist (an empty cluster)"), "\(plan.stdoutText)")
                // From the copy without roles (a full restore takes the cluster's own roles).
                let again = try await scene.botops(["restore", bare + "/" + record.id + ".dump", "--yes"], config: try config("bare"))
                #expect(again.termination == .exited(0), "\(again.stderrText)")
                #expect(again.stderrText.contains("uploaded without its roles"), "\(again.stderrText)")
                #expect(again.stdoutText.contains("did not exist (an empty cluster)"), "\(again.stdoutText)")
                #expect(try await psql("SELECT string_agg(datname, ' ' ORDER BY datname) FROM pg_database WHERE datname NOT LIKE 'template%'") == "bot_trader_db postgres")
            }
        }
    }
}

/// A recreated, empty cluster: a db container and volume of the test's own (same image and
/// entrypoint as the sandbox's db, never the sandbox's), removed with its volume after `body`.
struct RecreatedCluster {
    let name: String
    let scene: BackupSandbox

    static func with(_ scene: BackupSandbox, _ body: (RecreatedCluster) async throws -> Void) async throws {
        let name = "botops-restoretest-" + UUID().uuidString.prefix(8).lowercased()
        let image = try await BackupSandbox.sh("docker inspect -f '{{.Config.Image}}' db")
        try await BackupSandbox.sh(shellCommand(["docker", "run", "-d", "--name", name, "--network", "none", "-v", name + ":/var/lib/postgresql/data",
                                                 "-v", "/opt/bot/db:/docker-entrypoint:ro", "-e", "POSTGRES_USER=bot_user", "-e", "POSTGRES_DB=bot_trader_db",
                                                 "-e", "POSTGRES_PASSWORD=throwaway", "-e", "PGPORT=55432", "--entrypoint", "/bin/bash", image,
                                                 "/docker-entrypoint/entrypoint.sh"]) + " >/dev/null")
        let cluster = RecreatedCluster(name: name, scene: scene)
        var failure: Error?
        do {
            // Over TCP: the entrypoint's first server (socket only) creates the database and stops;
            // only the server it then starts listens on 127.0.0.1.
            try await waitUntil {
                (try? await BackupSandbox.sh(shellCommand(["docker", "exec", "-e", "PGPASSWORD=throwaway", name, "psql", "-X", "-At", "-h", "127.0.0.1", "-U", "bot_user",
                                                           "-d", "postgres", "-c", "SELECT 1 FROM pg_database WHERE datname = 'bot_trader_db'"]))) == "1"
            }
            try await body(cluster)
        } catch {
            failure = error
        }
        // Only this test's container and volume.
        try await BackupSandbox.sh(shellCommand(["docker", "rm", "-f", "-v", name]) + " >/dev/null && " + shellCommand(["docker", "volume", "rm", name]) + " >/dev/null")
        if let failure { throw failure }
    }

    func psql(_ sql: String, database: String = "postgres") async throws -> String {
        try await BackupSandbox.sh(shellCommand(["docker", "exec", name, "psql", "-X", "-At", "-U", "bot_user", "-d", database, "-c", sql]))
    }

    /// botops.yml pointed at this cluster's container, with a checkout path no compose service
    /// runs from, and backup.dir `dir` in the test's directory.
    func config(_ dir: String) throws -> String {
        let sandbox = try String(contentsOfFile: scene.sandbox.configFile, encoding: .utf8).split(separator: "\n").filter {
            !$0.hasPrefix("database:") && !$0.hasPrefix("path:")
        }.joined(separator: "\n")
        let path = scene.directory + "/" + dir + ".yml"
        try (sandbox + "\npath: \(scene.directory)/app\ndatabase: {container: \(name), user: bot_user, name: bot_trader_db}\n"
             + "backup:\n  dir: \(scene.directory)/\(dir)\n  min_free_disk: 0\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
