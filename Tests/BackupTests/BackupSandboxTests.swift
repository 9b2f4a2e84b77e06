import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// `botops backup` against the sandbox's real db container (image botops-base).
@Suite(.serialized, .enabled(if: Sandbox.isAvailable))
struct BackupSandboxTests {
    @Test func backupIsVerifiedAndRecordsTheLiveFiguresOfEveryTable() async throws {
        try await BackupSandbox.scene { scene in
            let live = try await BackupSandbox.liveFigures()
            let result = try await scene.botops(["backup", "--label", "first", "--format", "json"])
            #expect(result.termination == .exited(0), "\(result.stderrText)")
            let record = try #require(BackupRecord.parse(result.stdoutText))
            #expect(record.status == .verified && record.statusReason == nil)
            #expect(record.label == "first" && record.id.hasSuffix("-first") && record.database == "bot_trader_db")
            // The sandbox's stack may add rows meanwhile: tables unchanged around the backup must match exactly.
            let after = try await BackupSandbox.liveFigures()
            #expect(record.tables.map(\.qualifiedName) == live.map(\.qualifiedName))
            for (before, table) in zip(live, record.tables) where after.contains(before) {
                #expect(table == before)
            }
            #expect(after.filter { live.contains($0) }.count >= 8, "most tables were quiet during the backup")
            #expect(record.tables.contains { $0.name == "trade_records" && $0.rows > 0 })
            #expect(record.sequences.contains { $0.name == "fifo_allocations_id_seq" })
            #expect(scene.files() == [record.id + ".dump", record.id + ".json", record.id + ".roles.sql"])
            let dump = scene.directory + "/backups/" + record.id + ".dump"
            let attributes = try FileManager.default.attributesOfItem(atPath: dump)
            #expect((attributes[.posixPermissions] as? Int) == 0o640)
            #expect((attributes[.size] as? NSNumber)?.int64Value == record.size)
            // gzip level 1 (README: Benchmarks): pg_dump's default level makes the backup CPU-bound.
            let header = try await BackupSandbox.sh("docker exec -i db pg_restore --list <\(shellQuote(dump))")
            #expect(header.split(separator: "\n").contains { $0.hasSuffix("Compression: 1") }, "\(header.prefix(400))")
            let sum = try await BackupSandbox.sh("sha256sum \(shellQuote(dump)) | cut -c1-64")
            #expect(sum == record.sha256)
            let stored = try String(contentsOfFile: scene.directory + "/backups/" + record.id + ".json", encoding: .utf8)
            #expect(BackupRecord.parse(stored) == record)
            // No throwaway server is left running (a killed one dockerd removes may still be listed).
            #expect(try await BackupSandbox.throwawayServersLeft().isEmpty)
        }
    }

    @Test func retentionAfterAVerifiedBackupATruncatedDumpListedAsDamagedAndRestoreTest() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            let first = try await scene.botops(["backup", "--format", "json"], config: config)
            let record = try #require(BackupRecord.parse(first.stdoutText), "\(first.stderrText)")
            let backups = scene.directory + "/backups/"
            // Older backups, as if taken before: two on one New York day ten days ago, a failed one 8 days ago.
            // Hours are New York wall-clock hours: shifting "now" by hours put the two on different
            // New York days whenever the test ran between 00:00 and 02:00 New York time.
            var newYork = Calendar(identifier: .gregorian)
            newYork.timeZone = try #require(TimeZone(identifier: "America/New_York"))
            func plant(_ daysAgo: Int, hour: Int, _ status: BackupRecord.Status) throws -> String {
                let day = try #require(newYork.date(byAdding: .day, value: -daysAgo, to: Date()))
                let date = try #require(newYork.date(bySettingHour: hour, minute: 0, second: 0, of: day))
                var old = record
                old.id = BackupID(date: date, label: nil).text
                old.time = BackupID(date: date, label: nil).isoTime
                old.status = status
                try (old.json + "\n").write(toFile: backups + old.id + ".json", atomically: true, encoding: .utf8)
                try FileManager.default.copyItem(atPath: backups + record.id + ".dump", toPath: backups + old.id + ".dump")
                return old.id
            }
            let earlier = try plant(10, hour: 10, .verified), later = try plant(10, hour: 12, .verified), failed = try plant(8, hour: 12, .failed)
            try await BackupSandbox.sh("chown -R bot:bot \(shellQuote(backups))")
            let second = try await scene.botops(["backup", "--label", "second"], config: config)
            #expect(second.termination == .exited(0), "\(second.stderrText)")
            #expect(second.stderrText.contains("retention deleted"), "\(second.stderrText)")
            let names = Set(scene.files().filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) })
            #expect(names.contains(later) && names.contains(record.id))
            #expect(!names.contains(earlier) && !names.contains(failed), "\(names)")
            #expect(!scene.files().contains(earlier + ".dump"))

            // A dump cut short after the fact is listed as damaged, never as good.
            try await BackupSandbox.sh("truncate -s 1000 \(shellQuote(backups + record.id + ".dump"))")
            let listed = try await scene.botops(["backups", "--format", "json"], config: config)
            let line = try #require(listed.stdoutText.split(separator: "\n").first { $0.contains(record.id) })
            #expect(line.contains(#""effective_status":"failed""#) && line.contains(#""size_on_disk":1000"#))
            let table = try await scene.botops(["backups"], config: config)
            #expect(table.stdoutText.contains("DAMAGED: the dump is 1000 bytes"), "\(table.stdoutText)")

            let damaged = try await scene.botops(["restore", record.id, "--test"], config: config)
            #expect(damaged.termination == .exited(1))
            #expect(damaged.stderrText.contains("cannot be relied on: its sha256 differs"), "\(damaged.stderrText)")
            let latest = try await scene.botops(["restore", "latest", "--test"], config: config)
            #expect(latest.termination == .exited(0), "\(latest.stderrText)")
            #expect(latest.stdoutText.contains("-second: restored into a throwaway server"), "\(latest.stdoutText)")

            let kept = try await scene.botops(["backups", "keep", later], config: config)
            #expect(kept.termination == .exited(0), "\(kept.stderrText)")
            let stored = try String(contentsOfFile: backups + later + ".json", encoding: .utf8)
            #expect(BackupRecord.parse(stored)?.keep == true)
        }
    }

    @Test func backupTakenWhileAWriterInsertsVerifies() async throws {
        try await BackupSandbox.scene { scene in
            try await BackupSandbox.psql("CREATE TABLE botops_backup_writer (id bigserial PRIMARY KEY, note text, at timestamptz DEFAULT now())")
            // One committed row every millisecond or so, until terminated: detached in the container
            // (`docker exec -d`), so no test thread waits on it.
            let loop = "DO $$ BEGIN FOR i IN 1..10000000 LOOP INSERT INTO botops_backup_writer (note) VALUES (md5(i::text)); COMMIT; PERFORM pg_sleep(0.001); END LOOP; END $$"
            try await BackupSandbox.sh(shellCommand(["docker", "exec", "-d", "-e", "PGAPPNAME=botops_backup_writer", "db", "psql", "-X", "-U", "bot_user", "-d", "bot_trader_db", "-c", loop]))
            do {
                try await waitUntil { Int(try await BackupSandbox.psql("SELECT count(*) FROM botops_backup_writer")) ?? 0 > 50 }
                let result = try await scene.botops(["backup", "--format", "json"])
                #expect(result.termination == .exited(0), "\(result.stderrText)")
                let record = try #require(BackupRecord.parse(result.stdoutText))
                #expect(record.status == .verified)
                let written = try #require(record.tables.first { $0.name == "botops_backup_writer" })
                let now = Int64(try await BackupSandbox.psql("SELECT count(*) FROM botops_backup_writer")) ?? 0
                #expect(written.rows > 50 && written.rows < now, "the writer kept writing during the backup")
            } catch {
                try await stopWriter()
                throw error
            }
            try await stopWriter()
        }
    }

    private func stopWriter() async throws {
        _ = try? await BackupSandbox.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'botops_backup_writer'")
        try await BackupSandbox.dropScratchTable("botops_backup_writer")
    }

    @Test func pausedDatabaseContainerLeavesNoBackup() async throws {
        try await BackupSandbox.scene { scene in
            try await BackupSandbox.sh("docker pause db")
            let result: CommandResult
            do {
                result = try await scene.botops(["backup"])
            } catch {
                try await BackupSandbox.sh("docker unpause db")
                throw error
            }
            try await BackupSandbox.sh("docker unpause db")
            #expect(result.termination == .exited(1))
            #expect(result.stderrText.contains("backup failed, nothing was kept") && result.stderrText.contains("paused"), "\(result.stderrText)")
            #expect(scene.files().isEmpty, "\(scene.files())")
        }
    }

    @Test func fullBackupDiskLeavesNoBackup() async throws {
        try await BackupSandbox.scene { scene in
            let small = scene.directory + "/backups"
            try await BackupSandbox.sh("mkdir \(shellQuote(small)) && mount -t tmpfs -o size=16k,mode=0750 botops-backup-test \(shellQuote(small)) && chown bot:bot \(shellQuote(small))")
            let result: CommandResult
            do {
                result = try await scene.botops(["backup"])
            } catch {
                try await BackupSandbox.sh("umount \(shellQuote(small))")
                throw error
            }
            let left = scene.files()
            try await BackupSandbox.sh("umount \(shellQuote(small))")
            #expect(result.termination == .exited(1))
            #expect(result.stderrText.contains("pg_dump ended with status") && result.stderrText.contains("no space left on device"), "\(result.stderrText)")
            #expect(left.isEmpty, "\(left)")
        }
    }

    /// `--download` into a directory whose disk fills part-way: the download's writer thread gets
    /// a short write, then ENOSPC. It is reported with exit 1, nothing is left named as the dump or
    /// its record (nor a temporary file), and the backup on the host stays whole.
    @Test func aDownloadOntoAFullDiskNamesNothingAndSaysSo() async throws {
        try await BackupSandbox.scene { scene in
            let local = scene.directory + "/local"
            // A 64 KB tmpfs with one 4 KB page left: the dump (larger, required below) cannot fit.
            try await BackupSandbox.sh("mkdir \(shellQuote(local)) && mount -t tmpfs -o size=64k botops-download-test \(shellQuote(local))")
            let result: CommandResult
            let left: [String]
            do {
                try await BackupSandbox.sh("head -c 61440 /dev/zero > \(shellQuote(local + "/fill"))")
                result = try await scene.botops(["backup", "--no-verify", "--download", local])
                left = scene.files(in: local)
            } catch {
                try await BackupSandbox.sh("umount \(shellQuote(local))")
                throw error
            }
            try await BackupSandbox.sh("umount \(shellQuote(local))")
            let recordFile = try #require(scene.files().first { $0.hasSuffix(".json") }, "the backup on the host: \(scene.files())")
            let record = try #require(BackupRecord.parse(try String(contentsOfFile: scene.directory + "/backups/" + recordFile, encoding: .utf8)))
            try #require(record.size > 4096, "the dump must not fit in the page left")
            #expect(result.termination == .exited(1), "\(result.stderrText)")
            #expect(result.stderrText.contains("downloading \(record.id).dump failed, nothing was written under its name")
                    && result.stderrText.contains("No space left on device"), "\(result.stderrText)")
            #expect(!result.stderrText.contains("botops: downloaded"), "\(result.stderrText)")
            #expect(left == ["fill"], "nothing named as the backup, no temporary file: \(left)")
            #expect(scene.files() == [record.id + ".dump", record.id + ".json", record.id + ".roles.sql"])
            let sum = try await BackupSandbox.sh("sha256sum \(shellQuote(scene.directory + "/backups/" + record.id + ".dump")) | cut -c1-64")
            #expect(sum == record.sha256, "the backup on the host is whole")
        }
    }

    /// Ctrl-C while `--download` streams the dump, held mid-way (the host's `cat` of it is stopped
    /// once seen): botops exits 130, nothing is named as the dump or record and no temporary file
    /// is left here; the `cat` on the host ends once resumed.
    @Test func anInterruptedDownloadNamesNothing() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            let scratch = "botops_scratch_download"
            // About 60 MB of dump: its `cat` lives long enough to be seen and stopped.
            _ = try await BackupSandbox.psql("CREATE TABLE \(scratch) AS SELECT i, md5(i::text) || md5((i + 1)::text) AS note FROM generate_series(1, 1000000) i")
            let local = scene.directory + "/local"
            let backups = scene.directory + "/backups"
            // The `cat` whose working directory is this backup.dir, stopped as soon as it exists.
            let (stopped, process, said) = try await scene.interruptWhile("cat", in: backups, runs: ["backup", "--no-verify", "--download", local, "--config", config])
            let cat = String(stopped.split(separator: " ").first ?? "")
            if !cat.isEmpty { _ = try? await BackupSandbox.sh("kill -CONT \(cat)") }
            try await BackupSandbox.dropScratchTable(scratch)
            try #require(!cat.isEmpty, "the download's cat was never seen: \(said)")
            #expect(process.terminationStatus == 130, "\(said)")
            #expect(!said.contains("botops: downloaded"), "\(said)")
            #expect(scene.files(in: local).isEmpty, "nothing named as the backup, no temporary file: \(scene.files(in: local))")
            // The stopped `cat` writes into a closed channel once resumed: it must end.
            #expect((try? await BackupSandbox.sh("for i in $(seq 500); do kill -0 \(cat) 2>/dev/null || exit 0; sleep 0.01; done; exit 1")) != nil,
                    "the host's cat of the dump still runs 5 s after botops ended")
        }
    }

    /// The throwaway server reads the dump through a read-only bind mount (for `pg_restore -j 2`).
    /// docker takes `--mount`'s value as one CSV line: a comma splits it (botops then does not
    /// mount), a newline ends it ("target is required", exit 125: botops starts the server once
    /// more without the mount). Either way the dump goes through stdin and the backup verifies.
    @Test(arguments: ["with,comma", "with\nnewline"])
    func backupDirectoryThatCannotBeMountedIsStillVerified(_ name: String) async throws {
        try await BackupSandbox.scene { scene in
            let dir = scene.directory + "/" + name
            let yaml = "\"" + dir.replacingOccurrences(of: "\n", with: "\\n") + "\""
            let result = try await scene.botops(["backup", "--format", "json"], config: try scene.config(dir: yaml))
            #expect(result.termination == .exited(0), "\(result.stderrText)")
            let record = try #require(BackupRecord.parse(result.stdoutText), "\(result.stderrText)")
            #expect(record.status == .verified, "\(record.statusReason ?? "")")
            #expect(scene.files(in: dir) == [record.id + ".dump", record.id + ".json", record.id + ".roles.sql"])
        }
    }

    /// Where the mounted dump cannot be read inside the throwaway server (mode 600 here: no group
    /// read bit for its `--group-add`; a user namespace does the same), it goes through stdin.
    @Test func aDumpTheThrowawayServerCannotReadThroughTheMountStillRestores() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            let record = try await scene.unverifiedBackup(config: config)
            try await BackupSandbox.sh("chmod 600 \(shellQuote(scene.directory + "/backups/" + record.id + ".dump"))")
            let test = try await scene.botops(["restore", record.id, "--test"], config: config)
            #expect(test.termination == .exited(0), "\(test.stdoutText) \(test.stderrText)")
            #expect(try await BackupSandbox.throwawayServersLeft().isEmpty)
        }
    }

    @Test func lowDiskIsRefusedBeforeAnythingIsWritten() async throws {
        try await BackupSandbox.scene { scene in
            let result = try await scene.botops(["backup"], config: try scene.config(minFreeDisk: "1000TB"))
            #expect(result.termination == .exited(4))
            #expect(result.stderrText.contains("refused") && result.stderrText.contains("backup.min_free_disk"), "\(result.stderrText)")
            #expect(scene.files().isEmpty)
        }
    }

    @Test func backupDirectoryInsideTheCheckoutIsRefusedAndNotCreated() async throws {
        try await BackupSandbox.scene { scene in
            let result = try await scene.botops(["backup"], config: try scene.config(dir: "/opt/bot/botops-backups"))
            #expect(result.termination == .exited(2))
            #expect(result.stderrText.contains("inside the checkout"), "\(result.stderrText)")
            #expect(!FileManager.default.fileExists(atPath: "/opt/bot/botops-backups"))
        }
    }

    @Test func dumpKilledHalfWayLeavesNoBackup() async throws {
        try await BackupSandbox.scene { scene in
            // Enough rows that the dump takes a while to write.
            try await BackupSandbox.psql("CREATE TABLE botops_backup_bulk AS SELECT i, md5(i::text) || md5((i + 1)::text) AS note FROM generate_series(1, 1000000) i")
            do {
                let config = try scene.config()
                let backup = Task { try await scene.botops(["backup", "--no-verify"], config: config) }
                let partial = "\(shellQuote(scene.directory))/backups/.botops-partial-*/dump"
                // Kill pg_dump (by its pid, found by its command line) once its output has started;
                // polled on the host, so a fast dump cannot slip between two polls from here.
                try await BackupSandbox.sh("""
                    for i in $(seq 3000); do
                      pid=$(pgrep -f '^pg_dump --format=custom .*--snapshot=')
                      if [ -n "$pid" ] && test -s \(partial); then kill -9 $pid; exit 0; fi
                      sleep 0.01
                    done
                    echo "pg_dump was never seen writing" >&2; exit 1
                    """)
                let result = try await backup.value
                #expect(result.termination == .exited(1))
                #expect(result.stderrText.contains("pg_dump ended with status 137"), "\(result.stderrText)")
                #expect(scene.files().isEmpty, "\(scene.files())")
            } catch {
                try await BackupSandbox.dropScratchTable("botops_backup_bulk")
                throw error
            }
            try await BackupSandbox.dropScratchTable("botops_backup_bulk")
        }
    }
}

/// Polls `condition` every 10 ms, for at most 30 s (a bound on a real process, never a timing assert).
func waitUntil(_ condition: () async throws -> Bool) async throws {
    for _ in 0..<3000 {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    throw BackupTestFailure("the condition did not come true within 30 s")
}
