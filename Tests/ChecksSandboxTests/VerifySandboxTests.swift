import BotOpsKit
@testable import Checks
import Foundation
import Remote
import SandboxSupport
import Testing

/// Breaks the sandbox host the ways the operator's runbook says it breaks, for real, and checks
/// that exactly the right check fails with a message naming the cause. Serialized: each test
/// changes shared state and puts it back (run under flock /tmp/botops-sandbox.lock).
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct VerifySandboxTests {
    let sandbox: Sandbox
    let settings: CheckSettings

    init() throws {
        sandbox = try Sandbox.require()
        settings = try BotOpsConfig.load(path: sandbox.configFile).checkSettings()
    }

    static let script = "weekly_strategy_review.sh"
    static let waitHealthy = """
        for i in $(seq 90); do [ "$(docker inspect -f '{{.State.Health.Status}}' db)" = healthy ] && exit 0; sleep 1; done; exit 1
        """

    func psql(_ sql: String) -> String {
        shellCommand(["docker", "exec", "db", "psql", "-q", "-v", "ON_ERROR_STOP=1", "-U", "bot_user", "-d", "bot_trader_db", "-c", sql])
    }

    /// Breaks the host with `damage`, runs all nine checks, repairs with `repair`, then lets
    /// `expect` judge the verdicts.
    func scenario(_ damage: String, repair: String, expect: ([String: CheckResult]) -> Void) async throws {
        // The damage is to the shared host (a paused db, a changed script): in turn with other checkouts' tests.
        let report = try await SandboxLock.holding {
            try await broken(damage, repair: repair) { host in await (try CheckRunner()).run(in: CheckContext(host: host, settings: settings)) }
        }
        #expect(report.connectionLost == nil)
        expect(Dictionary(uniqueKeysWithValues: report.results.map { ($0.id.rawValue, $0) }))
    }

    /// Under the sandbox lock the caller holds: breaks the app checkout with `damage` (run in it),
    /// runs `body`, and repairs with `repair` however `body` ended.
    func broken<T>(_ damage: String, repair: String, _ body: (SSHConnection) async throws -> T) async throws -> T {
        let host = try await SSHConnection.connect(to: try sandbox.target())
        return try await host.closing {
            let app = shellQuote(sandbox.app)
            let broken = try await host.run("cd \(app) && \(damage)")
            try #require(broken.succeeded, "damage failed: \(broken.stderrText)")
            let outcome: Result<T, Error>
            do { outcome = .success(try await body(host)) } catch { outcome = .failure(error) }
            let repaired = try await host.run("cd \(app) && \(repair)", timeout: .seconds(120))
            #expect(repaired.succeeded, "repair failed: \(repaired.stderrText)")
            return try outcome.get()
        }
    }

    /// Every check passes except those named: `failing` maps id → text its message must contain.
    func expectVerdicts(_ results: [String: CheckResult], failing: [String: String] = [:], skipped: Set<String> = [],
                        sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(results.count == 9, sourceLocation: sourceLocation)
        for (id, result) in results {
            if let needle = failing[id] {
                #expect(result.status == .fail, "\(id): \(result.message)", sourceLocation: sourceLocation)
                #expect(result.message.contains(needle), "\(id): \(result.message)", sourceLocation: sourceLocation)
            } else if skipped.contains(id) {
                #expect(result.status == .skip, "\(id): \(result.message)", sourceLocation: sourceLocation)
            } else {
                #expect(result.status == .pass, "\(id): \(result.message)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func healthySandboxPassesAllNineWithEvidence() async throws {
        try await scenario("true", repair: "true") { results in
            expectVerdicts(results)
            #expect(results["cron-scheduled"]?.evidence.first?.value.contains("weekly_strategy_review.sh") == true)
            #expect(results["db-running"]?.evidence.contains(Evidence("health", "healthy")) == true)
            #expect(results["snapshot-active"]?.evidence.first?.name == "snapshot_id")
            #expect(results["report-file"]?.evidence.first?.value.contains("/logs/weekly_review_") == true)
            #expect(results["trade-linkage"]?.evidence.contains { $0.name == "linkage_rate" && $0.value.hasSuffix("filled)") } == true)
        }
    }

    @Test func cronEntryRemoved() async throws {
        try await scenario("crontab -l > ~/.crontab.botops-test && crontab -l | { grep -v weekly_strategy_review || true; } | crontab -",
                           repair: "crontab ~/.crontab.botops-test && rm ~/.crontab.botops-test") { results in
            expectVerdicts(results, failing: ["cron-scheduled": "no crontab line runs /opt/bot/weekly_strategy_review.sh"])
        }
    }

    @Test func cronEntryCommentedOut() async throws {
        try await scenario("crontab -l > ~/.crontab.botops-test && crontab -l | sed 's/^0 9/# 0 9/' | crontab -",
                           repair: "crontab ~/.crontab.botops-test && rm ~/.crontab.botops-test") { results in
            expectVerdicts(results, failing: ["cron-scheduled": "commented out"])
        }
    }

    @Test func scriptNotExecutable() async throws {
        try await scenario("chmod -x \(Self.script)", repair: "chmod +x \(Self.script)") { results in
            expectVerdicts(results, failing: ["script-executable": "is not executable"], skipped: ["report-generation", "report-file"])
        }
    }

    @Test func scriptDeleted() async throws {
        try await scenario("rm \(Self.script)", repair: "git checkout -- \(Self.script)") { results in
            expectVerdicts(results, failing: ["script-executable": "is missing"], skipped: ["report-generation", "report-file"])
        }
    }

    @Test func queryDeleted() async throws {
        // The script really needs the file, so the report run fails too: that verdict is right.
        try await scenario("rm queries/weekly_signal_quality.sql", repair: "git checkout -- queries/") { results in
            expectVerdicts(results, failing: ["queries-present": "missing: weekly_signal_quality.sql", "report-generation": "failed (exit 1)"],
                           skipped: ["report-file"])
        }
    }

    @Test func queryEmpty() async throws {
        try await scenario(": > queries/weekly_timing_analysis.sql", repair: "git checkout -- queries/") { results in
            expectVerdicts(results, failing: ["queries-present": "empty: weekly_timing_analysis.sql"])
        }
    }

    @Test func databaseContainerStopped() async throws {
        try await scenario("docker stop db >/dev/null", repair: "docker start db >/dev/null && \(Self.waitHealthy)") { results in
            expectVerdicts(results, failing: ["db-running": "not running"],
                           skipped: ["db-connectivity", "report-generation", "report-file", "trade-linkage", "snapshot-active"])
        }
    }

    @Test func tradeRecordsTableMissing() async throws {
        try await scenario(psql("ALTER TABLE trade_records RENAME TO trade_records_botops_test"),
                           repair: psql("ALTER TABLE trade_records_botops_test RENAME TO trade_records")) { results in
            // The weekly script's timing query reads trade_records too; linkage counts still work.
            expectVerdicts(results, failing: ["db-connectivity": "trade_records\" does not exist", "report-generation": "failed"],
                           skipped: ["report-file"])
            #expect(results["db-connectivity"]?.message.contains("migrations") == true)
            #expect(results["trade-linkage"]?.message.contains("unavailable") == true)
        }
    }

    @Test func reportScriptExitsOne() async throws {
        try await scenario("printf '#!/bin/bash\\necho \"weekly review: cannot reach db\" >&2\\nexit 1\\n' > \(Self.script)",
                           repair: "git checkout -- \(Self.script)") { results in
            expectVerdicts(results, failing: ["report-generation": "cannot reach db"], skipped: ["report-file"])
        }
    }

    @Test func reportWrittenToTheWrongPlace() async throws {
        try await scenario("""
            sed -i 's|OUT="$BOT_DIR/logs/|OUT="/tmp/botops-misplaced-|' \(Self.script) && touch -c -d '1 hour ago' logs/weekly_review_*.txt
            """, repair: "git checkout -- \(Self.script) && rm -f /tmp/botops-misplaced-*") { results in
            expectVerdicts(results, failing: ["report-file": "this run did not create or change a file"])
        }
    }

    /// Lines that mention the script without running it: an assignment and an old checkout's copy.
    /// The substring match passed them.
    @Test func cronLinesThatOnlyMentionTheScript() async throws {
        try await scenario("""
            crontab -l > ~/.crontab.botops-test && printf '%s\\n' 'REVIEW=/opt/bot/weekly_strategy_review.sh' \
              '0 9 * * 1 /opt/bot.old/weekly_strategy_review.sh >> /tmp/old.log 2>&1' | crontab -
            """, repair: "crontab ~/.crontab.botops-test && rm ~/.crontab.botops-test") { results in
            expectVerdicts(results, failing: ["cron-scheduled": "no crontab line runs /opt/bot/weekly_strategy_review.sh"])
        }
    }

    @Test func cronShowsTheScheduleAndItsNextRun() async throws {
        try await scenario("true", repair: "true") { results in
            let evidence = results["cron-scheduled"]?.evidence ?? []
            #expect(evidence.contains(Evidence("schedule", "0 9 * * 1")))
            #expect(evidence.contains { $0.name == "next_run" && $0.value.hasSuffix(" 09:00 Etc/UTC") })
        }
    }

    /// Docker reports a paused container as Running; it cannot answer, and the report script must
    /// not run against it. (Its healthcheck times out while paused, so the repair waits for healthy.)
    @Test func databaseContainerPaused() async throws {
        let log = "/tmp/botops-paused-report-\(UUID().uuidString.prefix(8))"
        try await scenario("""
            cp \(Self.script) ~/.review.botops-test && sed -i '2i echo ran >> \(log)' \(Self.script) && docker pause db >/dev/null
            """, repair: "docker unpause db >/dev/null; cp ~/.review.botops-test \(Self.script) && rm ~/.review.botops-test && git diff --quiet && \(Self.waitHealthy)") { results in
            expectVerdicts(results, failing: ["db-running": "is paused"],
                           skipped: ["db-connectivity", "report-generation", "report-file", "trade-linkage", "snapshot-active"])
            #expect(results["db-running"]?.evidence.first == Evidence("state", "paused"))
        }
        #expect(!FileManager.default.fileExists(atPath: log), "the report script ran against a paused database")
        try? FileManager.default.removeItem(atPath: log)
    }

    /// The database queries start before db-running has answered (they are prefetched), so they
    /// gate themselves on the host: into a paused container no `docker exec` is sent, whose
    /// exec would hang had the pause come while it ran.
    @Test func theDatabaseQueriesAreNotSentIntoAPausedContainer() async throws {
        let lock = try await SandboxLock.acquire()
        defer { lock.release() }
        let host = try await SSHConnection.connect(to: try sandbox.target())
        try await host.closing {
            let paused = try await host.run("docker pause db")
            try #require(paused.succeeded, "\(paused.stderrText)")
            // Unpaused before anything is judged, whatever the probe did.
            let facts: Result<DatabaseFacts, Error>
            do { facts = .success(try await DatabaseFacts.probe(settings, marker: SectionMarker()).run(on: host)) } catch { facts = .failure(error) }
            let resumed = try await host.run("docker unpause db >/dev/null; \(Self.waitHealthy)", timeout: .seconds(120))
            #expect(resumed.succeeded, "unpause failed: \(resumed.stderrText)")
            let results = try facts.get().results
            #expect(results.count == DatabaseFacts.queries.count)
            for (id, result) in results {
                guard case .failure(let failure) = result else {
                    Issue.record("\(id) answered from a paused container: \(result)")
                    continue
                }
                #expect(failure.message == "psql not run: the database container is paused", "\(id): \(failure.message)")
            }
        }
    }

    /// Things that look right to a lax check: a cron line whose script is cut off by a quoted `%`
    /// (cron feeds it to stdin), a directory named like a query, and a script that only creates a
    /// directory matching the report glob. Each used to pass.
    @Test func lookAlikesOfACronLineAQueryAndAReport() async throws {
        try await scenario("""
            crontab -l > ~/.crontab.botops-test && printf '%s\\n' "0 9 * * 1 echo '%'; /opt/bot/\(Self.script)" | crontab - \
              && mv queries/weekly_timing_analysis.sql ~/.query.botops-test && mkdir queries/weekly_timing_analysis.sql \
              && cp \(Self.script) ~/.review.botops-test \
              && printf '#!/bin/bash\\nmkdir -p /opt/bot/logs/weekly_review_dir.txt\\n' > \(Self.script)
            """, repair: """
            crontab ~/.crontab.botops-test && rm ~/.crontab.botops-test \
              && rmdir queries/weekly_timing_analysis.sql logs/weekly_review_dir.txt \
              && mv ~/.query.botops-test queries/weekly_timing_analysis.sql \
              && cp ~/.review.botops-test \(Self.script) && rm ~/.review.botops-test && git diff --quiet
            """) { results in
            expectVerdicts(results, failing: [
                "cron-scheduled": "no crontab line runs /opt/bot/weekly_strategy_review.sh",
                "queries-present": "not a regular file: weekly_timing_analysis.sql",
                "report-file": "is a directory, not a regular file",
            ])
        }
    }

    /// A query file and a fresh report of nothing but blanks and newlines: both have a size, and
    /// both used to pass.
    @Test func aBlankQueryAndABlankReport() async throws {
        try await scenario("""
            cp queries/weekly_signal_quality.sql ~/.query.botops-test && printf '  \\n\\t\\n' > queries/weekly_signal_quality.sql \
              && cp \(Self.script) ~/.review.botops-test \
              && printf '#!/bin/bash\\nprintf "\\\\n   \\\\n" > /opt/bot/logs/weekly_review_blank.txt\\n' > \(Self.script)
            """, repair: """
            cp ~/.query.botops-test queries/weekly_signal_quality.sql && rm ~/.query.botops-test logs/weekly_review_blank.txt \
              && cp ~/.review.botops-test \(Self.script) && rm ~/.review.botops-test && git diff --quiet
            """) { results in
            expectVerdicts(results, failing: [
                "queries-present": "only whitespace: weekly_signal_quality.sql",
                "report-file": "holds only whitespace",
            ])
        }
    }

    /// The script makes a link to an old report instead of writing one: `stat -L` sees a new path
    /// with the old file's identity and time, and it used to pass as created by this run.
    @Test func aLinkToAnOldReportIsNotThisRunsReport() async throws {
        let old = "/tmp/botops-old-report-\(UUID().uuidString.prefix(8)).txt"
        try await scenario("""
            echo 'weekly review from last month' > \(old) && touch -d '30 days ago' \(old) \
              && cp \(Self.script) ~/.review.botops-test \
              && printf '#!/bin/bash\\nln -sfn \(old) /opt/bot/logs/weekly_review_link.txt\\n' > \(Self.script)
            """, repair: "rm -f logs/weekly_review_link.txt \(old) && cp ~/.review.botops-test \(Self.script) && rm ~/.review.botops-test && git diff --quiet") { results in
            expectVerdicts(results, failing: ["report-file": "this run did not create or change a file"])
        }
    }

    /// An older report copied in with a future time (or left by a clock step) while the script
    /// writes nowhere: not this run's report.
    @Test func oldReportWithAFutureTimeAndAScriptThatWritesNothing() async throws {
        try await scenario("""
            cp \(Self.script) ~/.review.botops-test && printf '#!/bin/bash\\necho "Report written: nowhere"\\n' > \(Self.script) \
              && echo old > logs/weekly_review_2000-01-01.txt && touch -d '+2 days' logs/weekly_review_2000-01-01.txt
            """, repair: "cp ~/.review.botops-test \(Self.script) && rm ~/.review.botops-test logs/weekly_review_2000-01-01.txt && git diff --quiet") { results in
            expectVerdicts(results, failing: ["report-file": "in the future"])
        }
    }

    @Test func noLinkedTradesInTheWindow() async throws {
        try await scenario(psql("UPDATE trade_strategy_link SET linked_at = linked_at - interval '400 days'"),
                           repair: psql("UPDATE trade_strategy_link SET linked_at = linked_at + interval '400 days'")) { results in
            expectVerdicts(results, failing: ["trade-linkage": "0 trades linked in the last 1 day"])
        }
    }

    @Test func noActiveSnapshot() async throws {
        let marker = "1999-12-31 00:00:00+00"
        try await scenario(psql("UPDATE strategy_snapshots SET active_until = '\(marker)' WHERE active_until IS NULL"),
                           repair: psql("UPDATE strategy_snapshots SET active_until = NULL WHERE active_until = '\(marker)'")) { results in
            expectVerdicts(results, failing: ["snapshot-active": "no active strategy snapshot"])
        }
    }

    @Test func twoActiveSnapshots() async throws {
        // bot-engine's schema forbids two active snapshots with a unique index; a user's older
        // database may not have it, which is what this simulates.
        let index = "strategy_snapshots_one_active"
        try await scenario(psql("DROP INDEX \(index); INSERT INTO strategy_snapshots (score_buy_target, config, config_hash) VALUES (9.99, '{\"botops_test\": true}', 'test')"),
                           repair: psql("DELETE FROM strategy_snapshots WHERE config @> '{\"botops_test\": true}'; CREATE UNIQUE INDEX \(index) ON strategy_snapshots ((true)) WHERE active_until IS NULL")) { results in
            expectVerdicts(results, failing: ["snapshot-active": "2 snapshots are active at once"])
        }
    }
}

extension VerifySandboxTests {
    /// verify runs the report script, which writes a report into the shared checkout: in turn with
    /// the other checkouts' tests, as every test here.
    @Test func cliWritesJUnitAtomicallyAndExitsZero() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("verify.xml").path
        let result = try await SandboxLock.holding {
            try await BuiltBinary.botops.run(["verify", "--config", sandbox.configFile, "--format", "junit", "--output", file])
        }
        #expect(result.termination == .exited(0), "\(result.stdoutText)\(result.stderrText)")
        #expect(result.stdoutText.contains("9 checks: 9 passed"))
        let xml = try String(contentsOfFile: file, encoding: .utf8)
        #expect(xml.contains("<testsuite name=\"botops.verify\" tests=\"9\" failures=\"0\""))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["verify.xml"])
    }

    @Test func cliExitsOneWhenACheckFailsAndJSONSaysWhich() async throws {
        let result = try await SandboxLock.holding {
            try await broken("chmod -x \(Self.script)", repair: "chmod +x \(Self.script)") { _ in
                try await BuiltBinary.botops.run(["verify", "--config", sandbox.configFile, "--format", "json", "--only", "script-executable"])
            }
        }
        #expect(result.termination == .exited(1))
        let object = try JSONSerialization.jsonObject(with: Data(result.stdoutText.utf8)) as? [String: Any]
        #expect(object?["status"] as? String == "fail")
        let checks = object?["checks"] as? [[String: Any]]
        #expect(checks?.first?["status"] as? String == "fail")
    }
}

extension VerifySandboxTests {
    /// On the host itself, as a cron-driven self-check would run it: as the bot user, no ssh.
    @Test func localModeRunsTheSameChecksOnTheHost() async throws {
        let result = try await SandboxLock.holding {
            try await BuiltBinary.botops.run(["verify", "--local", "--config", sandbox.configFile, "--format", "json"],
                                             prefix: ["runuser", "-u", sandbox.value("SANDBOX_USER"), "--"])
        }
        #expect(result.termination == .exited(0), "\(result.stdoutText)\(result.stderrText)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdoutText.utf8)) as? [String: Any]
        #expect(object?["destination"] as? String == "local")
        #expect((object?["summary"] as? [String: Int])?["pass"] == 9)
    }

    /// The entry is installed, but the host finds no cron daemon (here a pgrep first on PATH that
    /// finds nothing, instead of stopping the shared daemon): the job would never fire, and the
    /// crontab line alone used to pass.
    @Test func anInstalledEntryWithoutACronDaemonFails() async throws {
        let fake = FileManager.default.temporaryDirectory.appendingPathComponent("botops-no-cron-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: fake, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: fake) }
        let pgrep = fake.appendingPathComponent("pgrep")
        try writeExecutable("#!/bin/sh\nexit 1\n", to: pgrep.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
        let path = fake.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let result = try await SandboxLock.holding {
            try await BuiltBinary.botops.run(["verify", "--local", "--config", sandbox.configFile, "--only", "cron-scheduled"],
                                             prefix: ["runuser", "-u", sandbox.value("SANDBOX_USER"), "--", "env", "PATH=\(path)"])
        }
        #expect(result.termination == .exited(1), "\(result.stdoutText)\(result.stderrText)")
        #expect(result.stdoutText.contains("no cron daemon"))
    }
}

extension VerifySandboxTests {
    /// The connection dies mid-run (the sshd session is killed as the database checks start):
    /// `--format json` still prints one document, the incomplete results with `connection_lost`,
    /// status unreachable, and exit 3; `--notify` is sent that document. Read-only (two checks
    /// over a private sshd), so no lock.
    @Test func aConnectionLostMidRunIsOneJSONDocumentAndExitsThree() async throws {
        let scripts = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scripts) }
        chmod(scripts.path, 0o755)
        let force = scripts.appendingPathComponent("force.sh")
        try writeExecutable("""
            #!/bin/sh
            case "$SSH_ORIGINAL_COMMAND" in *docker*) kill -KILL $PPID; exit 1;; esac
            exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"

            """, to: force.path)
        let server = try await TestSSHServer.start(hostKeys: [.ed25519], options: ["ForceCommand \(force.path)"])
        defer { server.stop() }
        let sshConfig = try server.writeSSHConfig(knownHosts: try server.writeKnownHosts([.ed25519]))
        // --notify sends the same document: a lost connection needs attention.
        let notified = scripts.appendingPathComponent("notified.json").path
        let config = scripts.appendingPathComponent("botops.yml").path
        try (try String(contentsOfFile: sandbox.configFile, encoding: .utf8) + "\nnotify:\n  command: cat > \(shellQuote(notified))\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        // It reads this machine's crontab, which other checkouts' tests change: in turn with them.
        let result = try await SandboxLock.holding {
            try await BuiltBinary.botops.run(["verify", "--config", config, "--host", "test-sshd", "--ssh-config", sshConfig,
                                             "--format", "json", "--only", "cron-scheduled,db-running", "--notify"], prefix: ["env", "-C", "/"])
        }
        #expect(result.termination == .exited(3), "\(result.stdoutText)\(result.stderrText)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdoutText.utf8)) as? [String: Any], "\(result.stdoutText)")
        #expect(object["status"] as? String == "unreachable")
        #expect((object["connection_lost"] as? String)?.contains("connection lost to 127.0.0.1") == true, "\(object)")
        #expect((object["checks"] as? [[String: Any]])?.count == 2)
        #expect(try String(contentsOfFile: notified, encoding: .utf8) == result.stdoutText)
    }
}
