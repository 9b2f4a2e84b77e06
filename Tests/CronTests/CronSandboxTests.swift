@testable import BotOpsKit
import Cron
import Foundation
import Remote
import SandboxSupport
import Testing

/// botops cron against the sandbox's real crontab and cron daemon (Debian's cron, host in UTC),
/// as user bot over ssh. Every test holds the sandbox lock and puts bot's crontab back exactly.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct CronSandboxTests {
    let sandbox: Sandbox
    /// This suite's own backup directory, so tests never see each other's backups.
    let state = StateDirectory(path: "/tmp/botops-cron-test-\(UUID().uuidString)")

    init() throws {
        sandbox = try Sandbox.require()
    }

    static let userCrontab = """
        # bot's crontab, edited by hand over the years
        MAILTO=""
        SHELL=/bin/sh

        # the weekly review, installed from the runbook
        0 9 * * 1 /opt/bot/weekly_strategy_review.sh >> /opt/bot/logs/weekly_review_cron.log 2>&1
        # keep the disk tidy
        17 3 * * * find /tmp -maxdepth 1 -name 'botops-never-*' -mtime +30 -delete
        #0 9 * * * /opt/bot/scripts/run_daily_report.sh

        """

    func entries(report: String = "0 */6 * * *") throws -> [CronEntry] {
        [try CronEntry.parse(weeklyEntryText, name: "weekly-strategy-review", source: "crontab.d/weekly-strategy-review.cron"),
         try CronEntry.parse("\(report) /opt/bot/scripts/run_daily_report.sh >> /opt/bot/logs/report_cron.log 2>&1", name: "report", source: "crontab.d/report.cron")]
    }

    /// Runs `body` with a CronService on a fresh ssh connection, removing this suite's backups after.
    func withService<T>(now: Int64 = utc("2026-11-24T12:00"), runner: ((any CommandRunner) -> any CommandRunner)? = nil,
                        _ body: (CronService) async throws -> T) async throws -> T {
        let connection = try await SSHConnection.connect(to: try sandbox.target())
        return try await connection.closing {
            defer { try? runProgram(["rm", "-rf", state.path]) }
            let host = CronHost(runner: runner?(connection) ?? connection, state: state)
            return try await body(CronService(host: host, destination: connection.destination, now: now))
        }
    }

    func unmanaged(_ bytes: [UInt8]) throws -> [[UInt8]] {
        try ManagedCrontab(Crontab(bytes: bytes)).unmanagedLines.map(\.bytes)
    }

    @Test func installAdoptsTheHandInstalledLineKeepsTheRestAndIsIdempotent() async throws {
        try await SandboxCrontab.scene {
            try SandboxCrontab.write(Array(Self.userCrontab.utf8))
            try await withService { service in
                let first = try await service.install(try entries(), force: false, lock: SceneLock())
                // The sandbox is a Debian host in UTC, like the user's AWS host.
                #expect(first.time.zone.identifier == "Etc/UTC")
                #expect(!first.time.honoursCronTZ)
                #expect(first.plan.changes.map(\.change) == [
                    .adopted(line: 6, text: "0 9 * * 1 /opt/bot/weekly_strategy_review.sh >> /opt/bot/logs/weekly_review_cron.log 2>&1"), .added,
                ])
                #expect(first.backup != nil)
                #expect(first.render().contains("warning: unmanaged line"))  // the commented-out daily report

                let installed = try #require(try SandboxCrontab.read())
                #expect(installed == first.plan.proposed.bytes)
                // The unmanaged part is byte-identical, minus the adopted line.
                var expected = try unmanaged(Array(Self.userCrontab.utf8))
                expected.remove(at: 5)
                #expect(try unmanaged(installed) == expected)
                // Adopted, not duplicated: one line runs the weekly review.
                let text = String(decoding: installed, as: UTF8.self)
                #expect(text.split(separator: "\n").filter { $0.contains("weekly_strategy_review.sh") && !$0.hasPrefix("#") }.count == 1)
                #expect(text.contains(#"0 16,17 * * * case $(TZ=America/Los_Angeles date +\%H:\%M/\%w/\%m/\%d) in 09:00/1/*) ;; *) exit 0;; esac; /opt/bot/weekly_strategy_review.sh"#))

                // Second install: "no changes", and crontab is not even run.
                let modified = try SandboxCrontab.spoolModified()
                let second = try await service.install(try entries(), force: false, lock: SceneLock())
                #expect(second.plan.isNoOp)
                #expect(second.backup == nil)
                #expect(second.render().contains("no changes"))
                #expect(try SandboxCrontab.spoolModified() == modified)
                #expect(try await service.host.backups().count == 1)
            }
        }
    }

    @Test func editingAnEntryChangesOnlyThatEntryAndRestoreReturnsThePreviousCrontabExactly() async throws {
        try await SandboxCrontab.scene {
            try SandboxCrontab.write(Array(Self.userCrontab.utf8))
            try await withService { service in
                _ = try await service.install(try entries(), force: false, lock: SceneLock())
                let before = try #require(try SandboxCrontab.read())
                // Rollback plan B of the deploy guide: the report back to daily.
                let edited = try await service.install(try entries(report: "0 9 * * *"), force: false, lock: SceneLock())
                #expect(edited.plan.changes.map(\.change) == [.unchanged, .updated])
                let after = try #require(try SandboxCrontab.read())
                let removed = Crontab(bytes: before).lines.filter { !Crontab(bytes: after).lines.contains($0) }
                let added = Crontab(bytes: after).lines.filter { !Crontab(bytes: before).lines.contains($0) }
                #expect(removed.map { String(decoding: $0, as: UTF8.self) } == ["0 */6 * * * /opt/bot/scripts/run_daily_report.sh >> /opt/bot/logs/report_cron.log 2>&1"])
                #expect(added.map { String(decoding: $0, as: UTF8.self) } == ["0 9 * * * /opt/bot/scripts/run_daily_report.sh >> /opt/bot/logs/report_cron.log 2>&1"])

                let restored = try await service.restore(nil, lock: SceneLock())
                #expect(try SandboxCrontab.read() == before)
                #expect(try await service.host.backup(restored).bytes == before)
            }
        }
    }

    @Test func restoreAfterCrontabR() async throws {
        try await SandboxCrontab.scene {
            try SandboxCrontab.write(Array(Self.userCrontab.utf8))
            try await withService { service in
                _ = try await service.install(try entries(), force: false, lock: SceneLock())
                let installed = try SandboxCrontab.read()
                // The accident the runbook warns about.
                let removal = try await service.host.runner.run("crontab -r")
                #expect(removal.succeeded)
                #expect(try SandboxCrontab.read() == nil)
                // The newest backup is the crontab before the install; the one before -r is named.
                let backups = try await service.host.backups()
                #expect(backups.count == 1)
                let diff = try await service.diff(try entries())
                #expect(diff.plan.current == .empty)
                _ = try await service.install(try entries(), force: false, lock: SceneLock())
                #expect(try SandboxCrontab.read() != installed)  // the user's lines are gone
                let restored = try await service.restore(backups[0].name, lock: SceneLock())
                #expect(restored == backups[0].name)
                #expect(try SandboxCrontab.read() == Array(Self.userCrontab.utf8))
            }
        }
    }

    @Test func aFailingCrontabListWritesNothing() async throws {
        let fake = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: fake) }
        let script = fake.appendingPathComponent("crontab")
        try writeExecutable("#!/bin/sh\necho 'crontab: cannot open /var/spool/cron/crontabs: Permission denied' >&2\nexit 2\n", to: script.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)

        try await SandboxCrontab.scene {
            try SandboxCrontab.write(Array(Self.userCrontab.utf8))
            let modified = try SandboxCrontab.spoolModified()
            try await withService(runner: { PathPrefixedRunner(base: $0, directory: fake.path) }) { service in
                await #expect(throws: CronHostError.readFailed(status: "exit 2", stderr: "crontab: cannot open /var/spool/cron/crontabs: Permission denied\n")) {
                    try await service.install(try entries(), force: false, lock: SceneLock())
                }
                await #expect(throws: CronHostError.self) { try await service.remove("report", lock: SceneLock()) }
                #expect(!FileManager.default.fileExists(atPath: state.path), "a backup directory was made")
            }
            #expect(try SandboxCrontab.read() == Array(Self.userCrontab.utf8))
            #expect(try SandboxCrontab.spoolModified() == modified)
        }
    }

    @Test func insideTheBlackoutWindowInstallIsRefusedUnlessForced() async throws {
        try await SandboxCrontab.scene {
            try SandboxCrontab.write(Array(Self.userCrontab.utf8))
            // Monday 30 November 2026, 09:05 in Los Angeles.
            try await withService(now: utc("2026-11-30T17:05")) { service in
                await #expect(throws: BlackoutRefusal.self) { try await service.install(try entries(), force: false, lock: SceneLock()) }
                #expect(try SandboxCrontab.read() == Array(Self.userCrontab.utf8))
                let forced = try await service.install(try entries(), force: true, lock: SceneLock())
                #expect(forced.backup != nil)
                #expect(forced.forcedThrough?.entry == "weekly-strategy-review")
                // Both the refusal and the forced install are in the audit log.
                let audit = try String(contentsOfFile: state.path + "/audit.jsonl", encoding: .utf8).split(separator: "\n")
                #expect(audit.count == 2)
                #expect(audit.first?.contains("\"result\":\"refused\"") == true)
                #expect(audit.last?.contains("\"result\":\"forced\"") == true)
                #expect(audit.last?.contains("forced inside blackout window: weekly-strategy-review fires at 2026-11-30 09:00 America/Los_Angeles") == true)
            }
        }
    }

    /// The installed weekly line, evaluated the way cron would run it, at injected instants: the
    /// real `sh` and `date` on the sandbox under libfaketime, with the host in UTC.
    @Test func weeklyEntryFiresAt0900LosAngelesInWinterAndSummer() async throws {
        try await SandboxCrontab.scene {
            try SandboxCrontab.write(Array(Self.userCrontab.utf8))
            try await withService { service in
                _ = try await service.install(try entries(), force: false, lock: SceneLock())
                let installed = Crontab(bytes: try #require(try SandboxCrontab.read()))
                let line = try #require(installed.lines.map { String(decoding: $0, as: UTF8.self) }.first { $0.hasPrefix("0 16,17 * * * case") })
                guard case .job(let fields, let command) = CrontabLine(Array(line.utf8)) else { Issue.record("not a job line"); return }
                let daemonSchedule = try Schedule.parse(fields)
                let inner = try #require(ZoneGuard.unwrap(command)).command
                // The guard exactly as installed, in front of a probe instead of the report script;
                // cron turns `\%` into `%` before handing the line to sh.
                let guardText = String(command.dropLast(inner.count)).replacingOccurrences(of: "\\%", with: "%")
                let probe = guardText + "echo fired"

                let cases: [(instant: String, fires: Bool)] = [
                    ("2026-01-05T17:00", true),   // Monday 09:00 PST (winter)
                    ("2026-01-05T16:00", false),  // Monday 08:00 PST
                    ("2026-07-06T16:00", true),   // Monday 09:00 PDT (summer)
                    ("2026-07-06T17:00", false),  // Monday 10:00 PDT
                    ("2026-03-09T16:00", true),   // the Monday after clocks go forward
                    ("2026-11-02T17:00", true),   // the Monday after clocks go back
                    ("2026-01-06T17:00", false),  // Tuesday
                ]
                for (text, fires) in cases {
                    let instant = utc(text)
                    // cron's part: the minute and hour fields, read in the host's zone (UTC).
                    let daemonRuns = daemonSchedule.matches(CronZone.utc.local(at: instant))
                    let fakeTime = text.replacingOccurrences(of: "T", with: " ") + ":00"
                    let result = try await service.host.runner.run(
                        "TZ=UTC faketime \(shellQuote(fakeTime)) sh -c \(shellQuote(probe)); echo \"date: $(TZ=UTC faketime \(shellQuote(fakeTime)) date -u +%FT%H:%M)\"")
                    #expect(result.succeeded, "\(result.stderrText)")
                    #expect(result.stdoutText.contains("date: \(text)"), "faketime did not take: \(result.stdoutText)")
                    let guardPasses = result.stdoutText.contains("fired")
                    #expect((daemonRuns && guardPasses) == fires, "\(text): cron runs the line \(daemonRuns), guard passes \(guardPasses)")
                }
            }
        }
    }

    /// How the sandbox's real cron (Debian's) reads a step on a single value, and that botops reads
    /// lines from a crontab the same way: `crontab` refuses `5/15` ("bad minute") and accepts the
    /// forms botops reads; the probe says the daemon is Debian's.
    @Test func hostLinesAreReadAsDebiansCronReadsThem() async throws {
        try await SandboxCrontab.scene {
            try await withService { service in
                let time = try await service.host.readTime()
                #expect(time.daemon == .debian)
                for (fields, cronAccepts) in [("5/15 9 * * 1", false), ("5-59/15 9 * * 1", true), ("*/15 9 * * 1", true), ("0 9 31 2 *", true), ("61 9 * * 1", false)] {
                    let result = try runProgram(["crontab", "-u", SandboxCrontab.user, "-"], input: Array("\(fields) /opt/bot/weekly_strategy_review.sh\n".utf8))
                    #expect((result.status == 0) == cronAccepts, "\(fields): crontab said \(result.stderr)")
                    let botopsAccepts = (try? Schedule.parse(fields, reading: .host(time.daemon))) != nil
                    #expect(botopsAccepts == cronAccepts, "\(fields)")
                }
            }
        }
    }

    /// Item 15 on the host: a hand line `bash SCRIPT` is seen by install (the parser verify uses):
    /// refused with exit 4 naming the line, and the crontab is left exactly as it was.
    @Test func aHandLineRunningTheScriptThroughBashIsRefusedNotDoubled() async throws {
        try await SandboxCrontab.scene {
            let crontab = "MAILTO=\"\"\n0 9 * * 1 bash /opt/bot/weekly_strategy_review.sh\n"
            try SandboxCrontab.write(Array(crontab.utf8))
            try await withService { service in
                do {
                    _ = try await service.install(try entries(), force: false, lock: SceneLock())
                    Issue.record("install went ahead")
                } catch let error as AdoptionError {
                    #expect(error.exitCode == .refused)
                    #expect(error.description.contains("line 2: 0 9 * * 1 bash /opt/bot/weekly_strategy_review.sh"), "\(error)")
                }
                #expect(try SandboxCrontab.read() == Array(crontab.utf8))
            }
        }
    }

    /// Item 16: the shipped weekly-verify runs /usr/local/bin/botops, which nothing puts on the
    /// host: diff, list and install warn, naming the entry and the program; programs that exist
    /// (the review script, `cd`) are not named.
    @Test func entriesWhoseProgramIsNotOnTheHostAreWarnedAbout() async throws {
        let verify = try CronEntry.parse("""
            CRON_TZ=America/Los_Angeles
            20 9 * * 1 cd "$HOME/botops" && /usr/local/bin/botops verify --local >> /opt/bot/logs/verify_cron.log 2>&1
            """, name: "weekly-verify", source: "crontab.d/weekly-verify.cron")
        let bare = try CronEntry.parse("0 1 * * * botops-no-such-tool --run", name: "bare", source: "crontab.d/bare.cron")
        let all = try entries() + [verify, bare]
        try await SandboxCrontab.scene {
            try SandboxCrontab.write(Array(Self.userCrontab.utf8))
            try await withService(now: utc("2026-11-25T12:00")) { service in
                let missing = try await service.host.missingPrograms(all)
                // The sandbox has no scripts/run_daily_report.sh either: the report entry is named too.
                #expect(missing == [MissingProgram(entry: "report", program: "/opt/bot/scripts/run_daily_report.sh"),
                                    MissingProgram(entry: "weekly-verify", program: "/usr/local/bin/botops"),
                                    MissingProgram(entry: "bare", program: "botops-no-such-tool")])
                let diff = try await service.diff(all).render()
                #expect(diff.contains("warning: entry weekly-verify runs /usr/local/bin/botops, which is not on the host"), "\(diff)")
                #expect(diff.contains("warning: entry bare runs botops-no-such-tool"))
                #expect(!diff.contains("runs /opt/bot/weekly_strategy_review.sh, which"))
                let list = try await service.list(all).render()
                #expect(list.contains("warning: entry weekly-verify runs /usr/local/bin/botops"))
                let installed = try await service.install(all, force: false, lock: SceneLock()).render()
                #expect(installed.contains("warning: entry weekly-verify runs /usr/local/bin/botops"))
            }
        }
    }

    /// Gap 6 of the interrupt work: the crontab write runs under the host's step lock, like a
    /// deploy's changing step, so a write that outlives a killed botops keeps the lock's next
    /// taker waiting. Here the test holds the step lock itself: the write waits, nothing is
    /// written meanwhile, and it completes once the lock is free.
    @Test func theCrontabWriteWaitsForTheStepLock() async throws {
        let dir = state.path
        try await SandboxCrontab.scene {
            try SandboxCrontab.write(Array(Self.userCrontab.utf8))
            let modified = try SandboxCrontab.spoolModified()
            try runProgram(["install", "-d", "-o", SandboxCrontab.user, "-m", "700", dir])
            let holder = Process()
            holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
            holder.arguments = ["-x", dir + "/step.lock", "sh", "-c", "touch \"$1/held\"; while [ ! -e \"$1/go\" ]; do sleep 0.05; done", "hold", dir]
            try holder.run()
            defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
            for _ in 0..<200 where !FileManager.default.fileExists(atPath: dir + "/held") { try await Task.sleep(for: .milliseconds(25)) }
            try await withService { service in
                let install = Task { try await service.install(try entries(), force: false, lock: SceneLock()) }
                let waiting = dir + "/step.cmd"
                for _ in 0..<400 where !FileManager.default.fileExists(atPath: waiting) { try await Task.sleep(for: .milliseconds(25)) }
                let named = try? String(contentsOfFile: waiting, encoding: .utf8)
                #expect(named == "botops cron: the crontab write\n", "the write did not wait for the step lock")
                try await Task.sleep(for: .milliseconds(300))
                #expect(try SandboxCrontab.read() == Array(Self.userCrontab.utf8), "written while the step lock was held")
                #expect(try SandboxCrontab.spoolModified() == modified)
                FileManager.default.createFile(atPath: dir + "/go", contents: nil)
                let installed = try await install.value
                #expect(installed.backup != nil)
                #expect(try SandboxCrontab.read() != Array(Self.userCrontab.utf8))
            }
        }
    }
}
