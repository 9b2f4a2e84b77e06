import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// A full restore that fails before the swap drops the new database it made; when that drop fails
/// too, the copy stays on the live server (a second copy of the ledger's size, unseen by the next
/// restore), so the message must say so and give the command that drops it, never "dropped".
extension BackupSandboxTests {
    @Test func aNewDatabaseTheFailedRestoreCannotDropIsNamedWithItsDropCommand() async throws {
        try await BackupSandbox.scene { scene in
            // `docker exec db dropdb …` fails; every other docker command is the real one.
            let path = try await scene.dockerWithoutThrowawayServer(cases: #"  "exec exec db dropdb "*) echo "dropdb: error: refused by the test" >&2; exit 1;;"#)
            let config = try scene.config()
            let record = try await scene.unverifiedBackup(config: config)
            // This docker starts no throwaway server, so the roles file (read in one) is moved away,
            // as the restore's own advice says: the restore then goes on to its figures.
            try FileManager.default.removeItem(atPath: scene.directory + "/backups/" + record.id + ".roles.sql")
            // The record says one row more than the dump holds: the restored copy's figures differ.
            let json = scene.directory + "/backups/" + record.id + ".json"
            var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
            var tables = try #require(object["tables"] as? [[String: Any]])
            let index = try #require(tables.firstIndex { $0["name"] as? String == "schema_migrations" })
            tables[index]["rows"] = (tables[index]["rows"] as? Int ?? 0) + 1
            object["tables"] = tables
            try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: URL(fileURLWithPath: json))
            let existing = try await Self.restoreDatabases()

            let restored = try await BuiltBinary.botops.run(["restore", record.id, "--yes", "--local", "--config", config], environment: ["PATH": path])
            let left = try await Self.restoreDatabases().subtracting(existing)
            #expect(restored.termination == .exited(1), "\(restored.stderrText)")
            #expect(restored.stderrText.contains("public.schema_migrations"), "\(restored.stderrText)")
            #expect(left.count == 1 && left.allSatisfy { $0.hasPrefix("botops_restore_") }, "\(left)")
            #expect(!restored.stderrText.contains("dropped)"), "the copy is said dropped: \(restored.stderrText)")
            for name in left {
                let command = shellCommand(["docker", "exec", "db", "dropdb", "-U", "bot_user", "--if-exists", "--force", name])
                #expect(restored.stderrText.contains(command), "no command drops \(name): \(restored.stderrText)")
                try await BackupSandbox.sh(command)
            }
            #expect(try await Self.restoreDatabases().subtracting(existing).isEmpty)
        }
    }
}
