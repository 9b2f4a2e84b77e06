@testable import Checks
import Cron
import Foundation
import HostCommands
import Remote
import SandboxSupport
import Testing

/// Each Checks probe's parser on given output, hostile and truncated output included; no host.
@Suite struct ProbeParserTests {
    let marker = SectionMarker()
    var m: String { marker.text }
    var probes: CheckProbes { CheckProbes(Fixture.settings, marker: marker) }

    func output(_ lines: [String], status: Int32 = 0, stderr: String = "") -> CommandResult {
        CommandResult(termination: .exited(status), stdout: Array((lines.joined(separator: "\n") + "\n").utf8), stderr: Array(stderr.utf8))
    }

    var hostOutput: [String] {
        [
            "\(m) crontab", "MAILTO=ops", Fixture.cronLine, "",
            "\(m) crontab-status", "0",
            "\(m) cron-daemon", "running",
            "\(m) script", "regular file|755|-rwxr-xr-x|bot|100|1700000000", "executable",
            "\(m) now", "1700000100",
            "\(m) cron-time", "link /usr/share/zoneinfo/Europe/Berlin", "debian-cron",
            "\(m) query-0", "regular file|644|-rw-r--r--|bot|20|1700000000",
            "\(m) query-1", "missing", "blank",
        ]
    }

    func hostFacts(_ lines: [String]) throws -> HostFacts {
        try probes.hostFacts.probe.parse(output(lines))
    }

    @Test func hostFactsReadsEverySection() throws {
        let facts = try hostFacts(hostOutput)
        #expect(facts.crontab == .listed(["MAILTO=ops", Fixture.cronLine]))
        #expect(facts.cronDaemonRunning == true)
        #expect(facts.script?.isRegular == true && facts.scriptExecutable)
        #expect(facts.now == 1_700_000_100)
        #expect(try facts.cronTime.get() == CronHostTime(zone: CronZone(identifier: "Europe/Berlin")!, honoursCronTZ: false))
        #expect(facts.queries["a.sql"]??.size == 20)
        #expect(facts.queries["b.sql"] == .some(nil))
        #expect(facts.blankQueries == ["b.sql"])
    }

    /// A crontab line that looks like a section line (another run's marker, or ours mid-line) is a
    /// crontab line: only a line starting with this run's marker starts a section.
    @Test func aCrontabLineThatLooksLikeAMarkerStaysACrontabLine() throws {
        var lines = hostOutput
        let hostile = ["@@botops-00000000 now", "0 0 * * * echo '\(m) now'"]
        lines.insert(contentsOf: hostile, at: 3)
        let facts = try hostFacts(lines)
        #expect(facts.crontab == .listed(["MAILTO=ops", Fixture.cronLine] + hostile))
        #expect(facts.now == 1_700_000_100)
    }

    /// `crontab -l` failing for another reason than "no crontab" (status 2: cannot read the spool)
    /// is a failure, never an empty crontab.
    @Test func aFailingCrontabListIsNeverReadAsEmpty() throws {
        var lines = hostOutput
        lines.replaceSubrange(1...5, with: ["crontab: cannot open /var/spool/cron/crontabs/bot: Permission denied", "\(m) crontab-status", "2"])
        let facts = try hostFacts(lines)
        #expect(facts.crontab == .failed(status: 2, message: "crontab: cannot open /var/spool/cron/crontabs/bot: Permission denied"))
        let verdict = CronScheduledCheck().evaluate(facts, settings: Fixture.settings)
        #expect(verdict.status == .fail)
        #expect(verdict.message.hasPrefix("crontab -l failed (status 2): crontab: cannot open"), "\(verdict.message)")
    }

    @Test func truncatedHostOutputNamesTheProbeAndWhatItPrinted() throws {
        let cut = Array(hostOutput.prefix(while: { $0 != "\(m) now" }))
        let error = try #require(throws: ProbeOutputError.self) { try hostFacts(cut) }
        #expect(error.probe == "host file probe")
        #expect(error.description.contains("MAILTO=ops"))
    }

    @Test func containerStateReadsTheGateAndTheInspectError() throws {
        let json = #"{"Status":"running","Running":true,"StartedAt":"2026-11-22T19:17:36Z"}"#
        let running = try probes.containerState.probe.parse(output(["\(m) db-status", "0", "\(m) db-state", "ok 2 4f1c9e " + json, "\(m) now", "1795375116"]))
        #expect(running.gate == "ok" && running.uptimeSeconds == 60 && running.restarts == 2 && running.id == "4f1c9e")
        let missing = try probes.containerState.probe.parse(output(["\(m) db-status", "1", "\(m) db-state", "Error: No such container: db", "\(m) now", "5"]))
        #expect(missing.inspectError == "Error: No such container: db")
        #expect(throws: ProbeOutputError.self) { try probes.containerState.probe.parse(output(["\(m) db-status", "0", "\(m) now", "5"])) }
    }

    func database(_ lines: [String], stderr: String = "") -> DatabaseFacts {
        try! probes.databaseFacts.probe.parse(output(lines, stderr: stderr))
    }

    func ok(_ id: String, _ rows: [String]) -> [String] {
        ["\(m) \(id)"] + rows + ["\(m) status-\(id)", "false\u{1F}00000\u{1F}"]
    }

    /// A query row that looks like a marker line (another run's) is a row of its query.
    @Test func databaseRowsThatLookLikeMarkersAreRows() {
        let snapshot = "@@botops-00000000 links\u{1F}2026-11-20T19:17:36Z\u{1F}2.5\u{1F}3600"
        let facts = database(ok("trade-count", ["60"]) + ok("links", ["30"]) + ok("linkage-rate", ["60\u{1F}30"]) + ok("snapshots", [snapshot]))
        #expect(facts == Fixture.database(["snapshots": .success([snapshot.components(separatedBy: "\u{1F}")])]))
    }

    @Test func aQueryErrorIsItsOwnAndATruncatedRunFailsTheRest() {
        let failed = ["\(m) trade-count", "\(m) status-trade-count", "true\u{1F}42P01\u{1F}relation \"trade_records\" does not exist"]
        let facts = database(failed + ok("links", ["30"]), stderr: "server closed the connection unexpectedly")
        #expect(facts.results["trade-count"] == .failure(Fixture.missingTable))
        #expect(facts.results["links"] == .success([["30"]]))
        #expect(facts.results["snapshots"] == .failure(.init(sqlstate: "", message: "psql stopped before this query: server closed the connection unexpectedly")))
    }

    @Test func aRefusedOrSilentPsqlFailsEveryQuery() {
        let refused = database(["\(m) refused", "paused"])
        #expect(refused.results.values.allSatisfy { $0 == .failure(.init(sqlstate: "", message: "psql not run: the database container is paused")) })
        let silent = database([], stderr: "Error response from daemon: No such container: db")
        #expect(silent.results.count == 4)
        #expect(silent.results.values.allSatisfy { $0 == .failure(.init(sqlstate: "", message: "Error response from daemon: No such container: db")) })
    }

    @Test func reportRunKeepsTheScriptsOutputAndReadsFileNamesWithBars() throws {
        let lines = [
            "Report written", "\(m) result", "0 100 101",
            "\(m) before", "",
            "\(m) after", "12|101.500000000|300|regular file|/opt/bot/logs/weekly_review_a|b.txt",
            "\(m) with-text", "/opt/bot/logs/weekly_review_a|b.txt",
            "\(m) now", "101",
        ]
        let run = try probes.reportRun.probe.parse(output(lines))
        #expect(run.output == "Report written")
        #expect(run.outcome == .ran(.exited(0), startedAt: 100, finishedAt: 101))
        #expect(run.written.map(\.path) == ["/opt/bot/logs/weekly_review_a|b.txt"])
        #expect(run.blankFiles.isEmpty)
        let refused = try probes.reportRun.probe.parse(output(["\(m) refused", "the database container is paused", "\(m) now", "5"]))
        #expect(refused.outcome == .refused("the database container is paused"))
        let error = try #require(throws: ProbeOutputError.self) { try probes.reportRun.probe.parse(output(["Report written", "\(m) now", "5"])) }
        #expect(error.probe == "report script run")
        #expect(error.problem == "neither a refusal nor the script's exit status")
        // Its command runs the script again: the advice says so before "run it by hand".
        #expect(error.description.contains("It changes the host (runs /opt/bot/weekly_strategy_review.sh, which writes a report)"), "\(error)")
        let readOnly = try #require(throws: ProbeOutputError.self) { try probes.containerState.probe.parse(output(["\(m) status", "0"])) }
        #expect(!readOnly.description.contains("It changes the host"))
    }

    /// Only the report run changes the host; every probe starts its sections with the run's marker.
    @Test func probesSayWhatTheyChange() {
        #expect(probes.hostFacts.probe.command.isReadOnly)
        #expect(probes.containerState.probe.command.isReadOnly)
        #expect(probes.databaseFacts.probe.command.isReadOnly)
        #expect(probes.reportRun.probe.command.effect == .changes("runs /opt/bot/weekly_strategy_review.sh, which writes a report"))
        let commands = [probes.hostFacts.probe.command, probes.containerState.probe.command,
                        probes.databaseFacts.probe.command, probes.reportRun.probe.command]
        for command in commands {
            #expect(command.script.text.contains(m))
            #expect(command.timeout == Fixture.settings.commandTimeout)
        }
    }

    /// What `verify --dry-run` prints is what the probes send: the same values, each once, with
    /// the checks that read it; --skip and --only leave out what they leave out.
    @Test func thePlanIsTheProbesCommands() throws {
        let plan = try CheckRunner().plan(probes)
        #expect(plan.map(\.command) == [probes.hostFacts.probe.command, probes.containerState.probe.command,
                                        probes.databaseFacts.probe.command, probes.reportRun.probe.command])
        #expect(plan.map(\.checks) == [[.cronScheduled, .scriptExecutable, .queriesPresent], [.dbRunning],
                                       [.dbConnectivity, .tradeLinkage, .snapshotActive], [.reportGeneration, .reportFile]])
        let onlyDatabase = try CheckRunner(only: [.dbConnectivity]).plan(probes)
        #expect(onlyDatabase.map(\.command) == [probes.containerState.probe.command, probes.databaseFacts.probe.command])
        let noReport = try CheckRunner(skip: [.reportGeneration]).plan(probes)
        #expect(!noReport.contains { !$0.command.isReadOnly })
        #expect(plan.text.contains("# report-generation, report-file (changes the host: runs /opt/bot/weekly_strategy_review.sh, which writes a report)\n"))
    }
}

/// The probes' shell, run for real on this machine (read-only, in a directory of the test's own).
@Suite struct ProbeShellTests {
    /// The crontab fragment every probe embeds, with a `crontab` shell function that prints `out`
    /// (no trailing newline), `err` on stderr, and returns `status`. A function, not a script first
    /// on PATH: a script written here and exec'd while another test forks fails with ETXTBSY, and
    /// the shell then ran the real /usr/bin/crontab ("no crontab for root").
    func listing(out: String, err: String = "", status: Int32) async throws -> CrontabListing? {
        let complaint: ShellScript = err.isEmpty ? "" : "printf '%s\\n' \(err) >&2; "
        let marker = SectionMarker()
        let script: ShellScript = "crontab() { printf '%s' \(out); \(complaint)return \(Int(status)); }\n\(CrontabListing.sections(marker))"
        return CrontabListing(sections: marker.split(try await LocalHost().run(script.text).stdoutText))
    }

    /// A last line without a newline still leaves the status readable; "no crontab for" is the
    /// only status 1 read as no crontab.
    @Test func theCrontabFragmentReadsWhatCrontabSays() async throws {
        #expect(try await listing(out: "MAILTO=ops\n0 9 * * 1 /opt/bot/x.sh", status: 0) == .listed(["MAILTO=ops", "0 9 * * 1 /opt/bot/x.sh"]))
        #expect(try await listing(out: "a\n\n", status: 0) == .listed(["a", ""]))
        #expect(try await listing(out: "", status: 0) == .listed([]))
        #expect(try await listing(out: "", err: "no crontab for bot", status: 1) == .noCrontab)
        #expect(try await listing(out: "", err: "crontab: your UID isn't in the passwd file.", status: 1)
                == .failed(status: 1, message: "crontab: your UID isn't in the passwd file."))
    }

    /// `! runnable` must negate the whole test: unbraced, `! test -f X && test -x X` ran a
    /// non-executable report script instead of refusing it.
    @Test func notRunnableRefusesAFileThatIsNotExecutable() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("botops-runnable-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let plain = directory.appendingPathComponent("plain.sh").path
        try Data("#!/bin/sh\n".utf8).write(to: URL(fileURLWithPath: plain))
        let script: ShellScript = "if ! \(ReportRun.runnable(plain)); then echo refused; else echo runs; fi"
        #expect(try await LocalHost().run(script.text).stdoutText == "refused\n")
        let missing: ShellScript = "if ! \(ReportRun.runnable(directory.path + "/missing")); then echo refused; else echo runs; fi"
        #expect(try await LocalHost().run(missing.text).stdoutText == "refused\n")
    }

    /// A host whose locale translates coreutils (`LANG=de_DE.UTF-8`, or `LANGUAGE=de` as here)
    /// has `stat -c %F` say "reguläre Datei" (and `%.9Y` "1796442312,417734506"): read as is, the
    /// script, the queries and every report would be "not a regular file". The probes' `stat`
    /// runs in the C locale. Needs coreutils' German messages (Debian ships them with coreutils).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/locale/de/LC_MESSAGES/coreutils.mo")))
    func hostFilesAndReportsAreReadInAHostLocaleThatTranslatesStat() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("botops-locale-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("queries"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("logs"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("SELECT 1;\n".utf8).write(to: directory.appendingPathComponent("queries/a.sql"))
        try Data("report\n".utf8).write(to: directory.appendingPathComponent("logs/weekly_review_1.txt"))
        let script = directory.appendingPathComponent("weekly_strategy_review.sh").path
        try writeExecutable("#!/bin/sh\n", to: script)
        let german: ShellScript = "export LANGUAGE=de LANG=C.UTF-8; unset LC_ALL LC_MESSAGES"
        // The test can fail only where stat speaks German under this environment.
        #expect(try await LocalHost().run("\(german)\nstat -c %F /").stdoutText == "Verzeichnis\n")

        var settings = Fixture.settings
        settings.appPath = directory.path
        settings.queries = ["a.sql"]
        // A container that does not exist: the report run is refused and runs nothing, but still
        // stats the reports before and after.
        settings.databaseContainer = "botops-no-such-container-\(UUID().uuidString.prefix(8))"
        let marker = SectionMarker()
        func inGerman<Fact>(_ probe: HostProbe<Fact>) async throws -> Fact {
            let command = RemoteCommand("\(german)\n\(probe.command.script)", timeout: .seconds(60))
            return try probe.parse(try await LocalHost().run(command).result)
        }
        let facts = try await inGerman(HostFacts.probe(settings, marker: marker))
        #expect(facts.script?.isRegular == true, "\(String(describing: facts.script))")
        #expect(facts.queries["a.sql"]??.isRegular == true)
        let run = try await inGerman(ReportRun.probe(settings, marker: marker))
        #expect(run.outcome == .refused("the database container is missing"))
        #expect(run.after.count == 1 && run.after.allSatisfy(\.isRegular), "\(run.after)")
    }

    /// The host file probe's command and parser together, on a checkout whose file names look
    /// like marker lines and carry quotes.
    @Test func hostFileProbeReadsARealDirectory() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("botops-probe-\(UUID().uuidString)")
        let queries = directory.appendingPathComponent("queries")
        try FileManager.default.createDirectory(at: queries, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let marker = SectionMarker()
        let hostile = "x\n\(marker.text) now\n'$(touch pwned)'.sql"
        try Data("SELECT 1;\n".utf8).write(to: queries.appendingPathComponent(hostile))
        try Data("  \n".utf8).write(to: queries.appendingPathComponent("blank.sql"))
        var settings = Fixture.settings
        settings.appPath = directory.path
        settings.queries = [hostile, "blank.sql", "missing.sql"]
        let facts = try await HostFacts.probe(settings, marker: marker).run(on: LocalHost())
        #expect(facts.queries[hostile]??.isRegular == true)
        #expect(facts.queries["blank.sql"]??.isRegular == true)
        #expect(facts.queries["missing.sql"] == .some(nil))
        #expect(facts.blankQueries.contains("blank.sql") && !facts.blankQueries.contains(hostile))
        #expect(facts.script == nil && !facts.scriptExecutable)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("pwned").path))
        #expect(abs(facts.now - Int(Date().timeIntervalSince1970)) < 3600)
    }
}
