import BotOpsKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Remote
import SandboxSupport
import Testing

struct BackupTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The sandbox host as the backup tests use it: a backup.dir of their own (owned by the ssh user,
/// removed afterwards), under the shared sandbox lock; the ledger's figures must be the same
/// after the test as before it.
struct BackupSandbox {
    let sandbox: Sandbox
    let directory: String

    /// Runs `body` holding the sandbox lock with a fresh backup.dir; fails if the live ledger's
    /// tables changed.
    static func scene(_ body: (BackupSandbox) async throws -> Void) async throws {
        let sandbox = try Sandbox.require()
        // The one sandbox lock (closed on exec: a botops this test starts must never hold it).
        let lock = try await SandboxLock.acquire()
        defer { lock.release() }
        let directory = try await sh("d=$(mktemp -d /tmp/botops-backup-test.XXXXXX) && chown bot:bot \"$d\" && echo \"$d\"")
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        // Only the tables are compared: the sandbox's own stack may add rows meanwhile; the tests
        // change nothing but scratch tables of their own.
        let before = try await liveFigures().map(\.qualifiedName)
        try await body(BackupSandbox(sandbox: sandbox, directory: directory))
        let after = try await liveFigures().map(\.qualifiedName)
        guard before == after else { throw BackupTestFailure("the test left the ledger's tables changed: \(before) → \(after)") }
    }

    /// Runs a shell command on this machine (the sandbox host is this machine); it must succeed.
    @discardableResult
    static func sh(_ script: String) async throws -> String {
        let result = try await LocalHost().run(script, timeout: .seconds(300))
        guard result.succeeded else { throw BackupTestFailure("`\(script.prefix(300))`: \(result.termination): \(result.stderrText.prefix(500))") }
        return result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Throwaway servers left (`NAME STATUS` lines; empty when none). A verification that finished
    /// kills its `--rm` server and returns while dockerd removes it: a stopped one dockerd is removing
    /// is waited for until it is gone (a guard of 60 s against a removal that never ends, not a
    /// timing), then whatever is still there is listed: a running one, and one dockerd could not
    /// remove (`dead`, never waited for) or never removes, are leaks.
    static func throwawayServersLeft() async throws -> String {
        try await sh("""
            for c in $(docker ps -aq --no-trunc --filter name=botops-verify); do
              i=0
              while [ "$i" -lt 600 ]; do
                case "$(docker inspect --format '{{.State.Status}} {{.HostConfig.AutoRemove}}' "$c" 2>/dev/null)" in
                  "exited true"|"removing true") sleep 0.1; i=$((i + 1)) ;;
                  *) break ;;
                esac
              done
            done
            docker ps -a --filter name=botops-verify --format '{{.Names}} {{.Status}}'
            """)
    }

    /// psql in the db container as the bot's user, under the settings the figures use.
    static func psql(_ sql: String, application: String = "botops-tests") async throws -> String {
        let options = "-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3 -c bytea_output=hex"
        return try await sh(shellCommand(["docker", "exec", "-e", "PGOPTIONS=" + options, "-e", "PGAPPNAME=" + application, "db", "psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                                          "-U", "bot_user", "-d", "bot_trader_db", "-c", sql]))
    }

    /// Drops a table a test created, waiting (at most 30 s) for the db container to answer.
    static func dropScratchTable(_ name: String) async throws {
        try await waitUntil { (try? await psql("DROP TABLE IF EXISTS \(name)")) != nil }
    }

    /// Every table's figures computed by hand, table by table (the README's recipe), for comparison
    /// with what botops recorded.
    static func liveFigures() async throws -> [BackupRecord.Table] {
        let names = try await psql("""
            SELECT n.nspname || '|' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
             ORDER BY n.nspname, c.relname
            """).split(separator: "\n").map { $0.split(separator: "|").map(String.init) }
        var tables: [BackupRecord.Table] = []
        for name in names {
            let figures = try await psql("SELECT count(*) || '|' || coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint), 0) FROM \"\(name[0])\".\"\(name[1])\" t")
                .split(separator: "|")
            tables.append(.init(schema: name[0], name: name[1], rows: Int64(figures[0]) ?? -1, checksum: String(figures[1])))
        }
        return tables
    }

    /// botops.yml for the sandbox with this test's backup section.
    func config(dir: String? = nil, minFreeDisk: String = "0") throws -> String {
        let path = directory + "/botops-\(UUID().uuidString.prefix(8)).yml"
        let text = try String(contentsOfFile: sandbox.configFile, encoding: .utf8)
            + "backup:\n  dir: \(dir ?? directory + "/backups")\n  min_free_disk: \(minFreeDisk)\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func botops(_ arguments: [String], config: String? = nil) async throws -> CommandResult {
        try await BuiltBinary.botops.run(arguments + ["--config", try config ?? self.config()])
    }

    /// Runs botops with `arguments`, SIGSTOPs the first host process called `name` working in
    /// `directory` as soon as it exists, then interrupts botops (SIGINT; SIGKILL if it is still
    /// running 30 s later) and waits for it. `stopped` is that process's "PID PGID", empty when
    /// botops ended first; the caller resumes it.
    func interruptWhile(_ name: String, in directory: String, runs arguments: [String]) async throws -> (stopped: String, process: Process, stderr: String) {
        let stderr = self.directory + "/interrupted.stderr"
        FileManager.default.createFile(atPath: stderr, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltBinary.botops.path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
        var stopped = ""
        do {
            try process.run()
            stopped = try await BackupSandbox.sh("""
                while kill -0 \(process.processIdentifier) 2>/dev/null; do
                  for p in $(pgrep -x \(shellQuote(name))); do
                    [ "$(readlink /proc/$p/cwd)" = \(shellQuote(directory)) ] && kill -STOP "$p" && echo "$p $(ps -o pgid= -p "$p")" && exit 0
                  done
                done
                true
                """)
            if !stopped.isEmpty { kill(process.processIdentifier, SIGINT) }
            try await waitUntil { !process.isRunning }
        } catch {
            Issue.record("\(error)")
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return (stopped, process, (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? "")
    }

    /// A backup without its verification restore (for tests that only need one to restore), and its record.
    func unverifiedBackup(config: String) async throws -> BackupRecord {
        let taken = try await botops(["backup", "--no-verify", "--format", "json"], config: config)
        guard let record = BackupRecord.parse(taken.stdoutText) else { throw BackupTestFailure("botops backup gave no record: \(taken.stderrText)") }
        return record
    }

    /// The names in `dir` (default: this test's backup.dir), hidden ones included.
    func files(in dir: String? = nil) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir ?? directory + "/backups")) ?? []).sorted()
    }
}
