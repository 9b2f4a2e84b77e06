import BotOpsKit
import Foundation
import SandboxSupport
import Testing

/// The throwaway server's initialised data directory is kept in the state directory, one tar per
/// db image id (README: Benchmarks): the first verification makes it and removes another image's,
/// later ones start from it, and one that is not a whole archive is made again.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable))
struct VerifyTemplateSandboxTests {
    /// A config with a state directory of the test's own, so the sandbox's template is not
    /// touched; its template directory, and the template's path for the db container's image.
    static func ownStateDirectory(_ scene: BackupSandbox) async throws -> (config: String, templates: String, template: String) {
        let state = scene.directory + "/state"
        let templates = state + "/verify-template"
        try await BackupSandbox.sh("install -d -o bot -g bot -m 700 \(shellQuote(state)) \(shellQuote(templates))")
        let config = try scene.config()
        try ("state_dir: \(state)\n" + String(contentsOfFile: config, encoding: .utf8)).write(toFile: config, atomically: true, encoding: .utf8)
        let image = try await BackupSandbox.sh("docker inspect --format '{{.Image}}' db")
        return (config, templates, templates + "/" + String(try #require(image.split(separator: ":").last)) + ".tar")
    }

    @Test func theFirstVerificationKeepsATemplateTheNextStartFromItAndABrokenOneIsMadeAgain() async throws {
        try await BackupSandbox.scene { scene in
            let (config, templates, template) = try await Self.ownStateDirectory(scene)
            // Another image's template, as if the db image changed since it was made.
            let stale = templates + "/" + String(repeating: "0", count: 64) + ".tar"
            try await BackupSandbox.sh("cp /etc/hostname \(shellQuote(stale)) && chown bot:bot \(shellQuote(stale))")
            let record = try await scene.unverifiedBackup(config: config)

            let first = try await scene.botops(["restore", record.id, "--test"], config: config)
            #expect(first.termination == .exited(0), "\(first.stderrText)")
            #expect(first.stderrText.contains("kept the throwaway server's initialised data directory in \(template)"), "\(first.stderrText)")
            #expect(scene.files(in: templates) == [String(template.split(separator: "/").last!)], "the stale template is removed")
            #expect(try await BackupSandbox.sh("stat -c %a \(shellQuote(template))") == "640")
            #expect(try await BackupSandbox.sh("tar -tf \(shellQuote(template))").split(separator: "\n").contains("pgdata/PG_VERSION"))
            let made = try await BackupSandbox.sh("stat -c '%i %Y' \(shellQuote(template))")

            let second = try await scene.botops(["restore", record.id, "--test"], config: config)
            #expect(second.termination == .exited(0), "\(second.stderrText)")
            #expect(!second.stderrText.contains("kept the throwaway"), "started from the template, not made again: \(second.stderrText)")
            #expect(try await BackupSandbox.sh("stat -c '%i %Y' \(shellQuote(template))") == made)

            // Cut short (as by a full disk): the verification still runs, from initdb, and makes it again.
            try await BackupSandbox.sh("truncate -s 20000 \(shellQuote(template))")
            let third = try await scene.botops(["restore", record.id, "--test"], config: config)
            #expect(third.termination == .exited(0), "\(third.stderrText)")
            #expect(third.stderrText.contains("kept the throwaway server's initialised data directory"), "\(third.stderrText)")
            #expect(try await BackupSandbox.sh("tar -tf \(shellQuote(template)) >/dev/null && echo whole") == "whole")
            #expect(try await BackupSandbox.throwawayServersLeft().isEmpty)
        }
    }

    /// restore --test checks the dump's sha256 on the host while the throwaway server starts: a
    /// damaged dump is refused and the server it started is removed.
    @Test func aDamagedDumpIsRefusedByRestoreTestAndItsServerRemoved() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            let record = try await scene.unverifiedBackup(config: config)
            let dump = scene.directory + "/backups/" + record.id + ".dump"
            // Same size, one byte changed: only the sha256 tells.
            try await BackupSandbox.sh("printf x | dd of=\(shellQuote(dump)) bs=1 seek=5000 conv=notrunc status=none")
            let damaged = try await scene.botops(["restore", record.id, "--test"], config: config)
            #expect(damaged.termination == .exited(1))
            #expect(damaged.stderrText.contains("cannot be relied on: its sha256 differs from the record's"), "\(damaged.stderrText)")
            #expect(try await BackupSandbox.sh("docker ps -a --filter name=botops-verify --format '{{.Names}}'").isEmpty)
        }
    }

    /// A template that is a whole archive but no server comes up from (here a data directory of
    /// PG_VERSION alone; bit rot inside a file does the same) does not leave every later
    /// verification "unverified": it is removed and the server starts from initdb, whose template is kept.
    @Test func aTemplateNoServerStartsFromIsMadeAgainAndTheVerificationStillRuns() async throws {
        try await BackupSandbox.scene { scene in
            let (config, _, template) = try await Self.ownStateDirectory(scene)
            let bare = scene.directory + "/bare"
            try await BackupSandbox.sh("""
                mkdir -p \(shellQuote(bare + "/pgdata")) && echo 15 >\(shellQuote(bare + "/pgdata/PG_VERSION")) \
                  && tar -C \(shellQuote(bare)) -cf \(shellQuote(template)) pgdata && chown bot:bot \(shellQuote(template)) && chmod 640 \(shellQuote(template))
                """)
            let record = try await scene.unverifiedBackup(config: config)

            let test = try await scene.botops(["restore", record.id, "--test"], config: config)
            #expect(test.termination == .exited(0), "\(test.stderrText)")
            #expect(test.stderrText.contains("kept the throwaway server's initialised data directory in \(template)"), "\(test.stderrText)")
            #expect(try await BackupSandbox.sh("tar -tf \(shellQuote(template))").split(separator: "\n").contains("pgdata/global/pg_control"))
            #expect(try await BackupSandbox.throwawayServersLeft().isEmpty)
        }
    }

    /// When the db container's image cannot be read (no throwaway server then), restore --test
    /// still checks the dump's sha256 before backup.verify_on_live restores it on the live server.
    @Test func aDamagedDumpIsRefusedBeforeVerifyOnLiveWhenTheDbImageCannotBeRead() async throws {
        try await BackupSandbox.scene { scene in
            let path = try await scene.dockerWithoutThrowawayServer(cases: """
                  "inspect inspect --format {{.Image}} "*) echo "Error: No such object" >&2; exit 1;;
                """)
            let config = try scene.config()
            let record = try await scene.unverifiedBackup(config: config)
            try String(contentsOfFile: config, encoding: .utf8).appending("  verify_on_live: true\n").write(toFile: config, atomically: true, encoding: .utf8)
            let dump = scene.directory + "/backups/" + record.id + ".dump"
            try await BackupSandbox.sh("printf x | dd of=\(shellQuote(dump)) bs=1 seek=5000 conv=notrunc status=none")
            let damaged = try await BuiltBinary.botops.run(["restore", record.id, "--test", "--local", "--config", config], environment: ["PATH": path])
            #expect(damaged.termination == .exited(1))
            #expect(damaged.stderrText.contains("cannot be relied on: its sha256 differs from the record's"), "\(damaged.stderrText)")
            #expect(!damaged.stderrText.contains("scratch database"), "\(damaged.stderrText)")
            #expect(try await BackupSandbox.psql("SELECT count(*) FROM pg_database WHERE datname LIKE 'botops\\_verify\\_%'") == "0")
        }
    }

    /// Ctrl-C while restore --test checks the dump's sha256 (its throwaway server starting
    /// meanwhile): botops closes its channel, and the host's script, which goes on and writes into
    /// that closed channel later, must still remove its throwaway server on the way out.
    @Test func ctrlCWhileTheSha256IsCheckedLeavesNoThrowawayServer() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            let scratch = "botops_scratch_verify_sum"
            // About 60 MB of dump: its sha256sum lives long enough to be seen and stopped.
            _ = try await BackupSandbox.psql("CREATE TABLE \(scratch) AS SELECT i, md5(i::text) || md5((i + 1)::text) AS note FROM generate_series(1, 1000000) i")
            let record: BackupRecord
            do {
                record = try await scene.unverifiedBackup(config: config)
            } catch {
                try await BackupSandbox.dropScratchTable(scratch)
                throw error
            }
            try await BackupSandbox.dropScratchTable(scratch)
            let (stopped, process, said) = try await scene.interruptWhile("sha256sum", in: scene.directory + "/backups", runs: ["restore", record.id, "--test", "--config", config])
            // The stopped sha256sum and the process group of the script that runs it.
            let pids = stopped.split(separator: " ").map(String.init)
            if let sum = pids.first { _ = try? await BackupSandbox.sh("kill -CONT \(sum)") }
            try #require(pids.count == 2, "the verification's sha256sum was never seen: \(said)")
            #expect(process.terminationStatus == 130, "\(said)")
            // The script goes on once its sha256sum does: waited for until all it started has ended.
            try await waitUntil { (try? await BackupSandbox.sh("pgrep -g \(pids[1]) >/dev/null || echo gone")) == "gone" }
            let left = try await BackupSandbox.sh("docker ps -a --filter name=botops-verify --format '{{.Names}}'")
            if !left.isEmpty { _ = try? await BackupSandbox.sh("docker rm -f \(left.split(separator: "\n").map { shellQuote(String($0)) }.joined(separator: " "))") }
            #expect(left.isEmpty, "throwaway server left running: \(left)")
        }
    }

    /// A finished verification only kills its server and dockerd removes it (`--rm`), so each run's
    /// server has a name of its own; one an earlier run of this id left (killed before its trap
    /// ran) is found by its label and removed by the next run.
    @Test func aServerAnEarlierRunOfThisIdLeftIsRemovedByTheNext() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            let record = try await scene.unverifiedBackup(config: config)
            let prefix = "botops-verify-" + record.id.lowercased().replacing(".", with: "-")
            let image = try await BackupSandbox.sh("docker inspect --format '{{.Image}}' db")
            let leftover = try await BackupSandbox.sh("docker run -d --rm --name \(shellQuote(prefix + "-leftover")) --label \(shellQuote("botops.verify=" + prefix))"
                                                      + " --network none --entrypoint sleep \(shellQuote(image)) 600")
            let test = try await scene.botops(["restore", record.id, "--test"], config: config)
            let still = try await BackupSandbox.sh("docker ps -aq --no-trunc --filter id=\(shellQuote(leftover))")
            if !still.isEmpty { _ = try? await BackupSandbox.sh("docker rm -f \(shellQuote(leftover))") }
            #expect(test.termination == .exited(0), "\(test.stderrText)")
            #expect(still.isEmpty, "the leftover server is still there")
            #expect(try await BackupSandbox.throwawayServersLeft().isEmpty)
        }
    }

    /// The leak check the suites use waits for a killed `--rm` server dockerd is removing, but a
    /// server dockerd could not remove (`dead`: a file of its writable layer made immutable) stays
    /// and is reported, as a running one is.
    @Test func aThrowawayServerDockerdCouldNotRemoveIsReportedAsLeft() async throws {
        try await BackupSandbox.scene { _ in
            let image = try await BackupSandbox.sh("docker inspect --format '{{.Image}}' db")
            func server(_ what: String) async throws -> String {
                let name = "botops-verify-test-\(what)-" + UUID().uuidString.prefix(8).lowercased()
                try await BackupSandbox.sh("docker run -d --rm --name \(shellQuote(name)) --network none --entrypoint sleep \(shellQuote(image)) 600 >/dev/null")
                return name
            }
            let removed = try await server("removed")
            try await BackupSandbox.sh("docker kill \(shellQuote(removed)) >/dev/null")
            #expect(try await BackupSandbox.throwawayServersLeft() == "", "a server dockerd removes is no leak")

            let stuck = try await server("stuck")
            let upper = "\"$(docker inspect --format '{{.GraphDriver.Data.UpperDir}}' \(shellQuote(stuck)))\""
            var left = "", failure: Error?
            do {
                try await BackupSandbox.sh("touch \(upper)/pin && chattr +i \(upper)/pin && docker kill \(shellQuote(stuck)) >/dev/null")
                left = try await BackupSandbox.throwawayServersLeft()
            } catch { failure = error }
            _ = try? await BackupSandbox.sh("chattr -i \(upper)/pin 2>/dev/null; docker rm -f \(shellQuote(stuck)) >/dev/null")
            if let failure { throw failure }
            #expect(left.hasPrefix(stuck + " "), "a server dockerd could not remove is left: \(left)")
        }
    }
}
