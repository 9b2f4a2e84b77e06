@testable import BotOpsKit
import Checks
import HostCommands
import Foundation
import Remote
import Testing

/// The parsers of status's own probe and of the backup records (pure).
@Suite struct StatusParsingTests {
    @Test func theNewestVerifiedBackupIsTheVerifiedEntryWithTheGreatestTimeWhoseDumpIsWhole() throws {
        func entry(_ id: String, _ status: BackupRecord.Status, onDisk: Int64?) throws -> BackupCatalog.Entry {
            let record = BackupRecord(id: try #require(BackupID.parse(id)), database: "bot_trader_db", serverVersion: "15", size: 10, sha256: "x",
                                      tocDigest: "y", status: status, statusReason: nil, keep: false, tables: [], sequences: [])
            return BackupCatalog.Entry(record: record, sizeOnDisk: onDisk)
        }
        let entries = [
            try entry("20261101T000000Z", .verified, onDisk: 10),
            try entry("20261102T000000Z-b", .verified, onDisk: 10),
            // Newer and verified, but the dump is cut short or gone: it restores nothing.
            try entry("20261109T000000Z", .verified, onDisk: 4),
            try entry("20261110T000000Z", .verified, onDisk: nil),
            try entry("20261201T000000Z", .unverified, onDisk: 10),
            try entry("20261203T000000Z", .failed, onDisk: 10),
        ]
        let newest = try #require(HostStatus.Backup.newestVerified(entries, now: 1_793_664_000))
        #expect(newest == HostStatus.Backup(id: "20261102T000000Z-b", time: "2026-11-02T00:00:00Z", ageSeconds: 1_793_664_000 - 1_793_577_600, size: 10))
        #expect(HostStatus.Backup.newestVerified([], now: 0) == nil)
        #expect(newest.restoreCommand == "botops restore 20261102T000000Z-b --yes")
    }

    @Test func containerStatesKeepTheStartTimeAndNameARestartLoop() {
        let observed = ContainerObservation.parse("""
            abc|running|false|healthy|0|2026-12-04T20:00:00.123456Z
            def|running|true||7|2026-12-04T20:10:00Z
            not a line
            """)
        #expect(observed.count == 2)
        #expect(observed[0] == ContainerObservation(id: "abc", status: "running", health: "healthy", restarts: 0, startedAt: 1796414400))
        #expect(observed[1].status == "restarting" && observed[1].restarts == 7)
    }

    @Test func statusExtrasReadTheReportTheDiskAndTheHostBotops() throws {
        var config = try BotOpsConfig.parse("host: h\n", file: "botops.yml")
        config.path = "/opt/bot"
        let extras = StatusExtras(config: config)
        let m = extras.marker.text
        let facts = extras.parse("""
            \(m) now
            1000
            \(m) report
            900 42 /opt/bot/logs/weekly review 1.txt
            \(m) state-disk
            2048 /
            \(m) version
            not installed
            \(m) end
            """, localNow: 7)
        #expect(facts.hostClockRead)
        #expect(facts.newestReport == HostStatus.FileInfo(path: "/opt/bot/logs/weekly review 1.txt", modified: 900, ageSeconds: 100, size: 42))
        #expect(facts.stateDisk == HostStatus.Disk(name: "state-dir", mount: "/", freeBytes: 2 * 1024 * 1024))
        #expect(facts.hostVersion == .notInstalled)
        let installed = extras.parse("\(m) now\n5\n\(m) version\n0\n0.15.0\n\(m) end\n", localNow: 7)
        #expect(installed.hostVersion == .runs("0.15.0") && installed.newestReport == nil)
    }

    /// A host whose `date` prints nothing: ages are by this machine's clock and say so, never
    /// reckoned from 1970 (every report then 0 s old: a week-old report shown fresh).
    @Test func anUnreadableHostClockNeverMakesAStaleReportFresh() throws {
        var config = try BotOpsConfig.parse("host: h\n", file: "botops.yml")
        config.path = "/opt/bot"
        let extras = StatusExtras(config: config)
        let m = extras.marker.text
        let weekOld = 1_796_000_000
        let facts = extras.parse("\(m) now\ndate: not found\n\(m) report\n\(weekOld) 42 /opt/bot/logs/r.txt\n\(m) end\n",
                                 localNow: weekOld + 7 * 86_400)
        #expect(!facts.hostClockRead)
        #expect(facts.now == weekOld + 7 * 86_400)
        #expect(facts.newestReport?.ageSeconds == 7 * 86_400)
    }

    @Test func theJSONHasEveryKeyWithNullForWhatWasNotFound() throws {
        let missing = HostStatus.Container(service: "db", state: "missing", lastVerified: false)
        let status = HostStatus(destination: "bot@h:22", readAt: 0, durationMS: 5, services: [], database: missing,
                                checkout: HostStatus.Checkout(present: false, clean: false, changed: []),
                                lock: HostStatus.Lock(state: "free"), lastDeploy: nil, cron: [], cronProblem: nil, newestReport: nil,
                                newestVerifiedBackup: nil, disk: [], botops: HostStatus.Versions(local: "1", host: .notInstalled), problems: [])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.json.utf8)) as? [String: Any])
        for key in ["last_deploy", "newest_report", "newest_verified_backup", "cron_problem", "releases_problem"] {
            #expect(object[key] is NSNull, "\(key)")
        }
        #expect((object["botops"] as? [String: Any])?["host"] as? String == "not installed")
        #expect(object["read_at"] as? String == "1970-01-01T00:00:00Z")
        let text = StatusText(colour: false).render(status)
        #expect(text.contains("backup     none verified") && text.contains("checkout   missing") && text.contains("last deploy none recorded"))
    }
}

@Suite struct CheckoutFactsTests {
    @Test func aCheckoutGitCannotReadIsNeverShownClean() {
        let marker = SectionMarker()
        let output = ["user", "status", "branch", "head", "disk", "releases", "end"].map { "\(marker.text) \($0)" }.joined(separator: "\n")
        let facts = CheckoutFacts.parse(output, termination: .exited(0), marker: marker, releasesFile: "~/.botops/releases.json")
        #expect(facts.checkout.present && facts.checkout.revision == nil && !facts.checkout.clean)
        #expect(!CheckoutFacts.parse("", termination: .exited(70), marker: marker, releasesFile: "r").checkout.present)
    }

    @Test func unreadableReleaseRecordsAreSaidSoNamingTheFileNeverReadAsNoReleases() {
        let marker = SectionMarker()
        func probe(_ releases: String) -> CheckoutFacts {
            let output = ["\(marker.text) head", "abc", "\(marker.text) releases", releases, "\(marker.text) end"].joined(separator: "\n")
            return CheckoutFacts.parse(output, termination: .exited(0), marker: marker, releasesFile: "~/.botops/releases.json")
        }
        let denied = probe("cat: /home/bot/.botops/releases.json: Permission denied")
        #expect(denied.releasesProblem?.hasPrefix("cannot read ~/.botops/releases.json: cat: /home/bot/.botops/releases.json: Permission denied") == true,
                "\(denied.releasesProblem ?? "nil")")
        #expect(probe("{\"services\": {").releasesProblem?.contains("cannot read ~/.botops/releases.json: it is not the JSON botops writes") == true)
        #expect(probe("{}").releasesProblem == nil, "no file yet is no releases, not a problem")
    }
}

@Suite struct RecoverFactsTests {
    /// A host without pgrep cannot say whether cron runs: recover must not report the daemon stopped
    /// (and tell the operator to start it) then. The same probe serves the cron-scheduled check.
    @Test func theCronDaemonProbeIsTheChecksOneAndUnknownIsNotStopped() throws {
        let marker = SectionMarker()
        var config = try BotOpsConfig.parse("host: h\n", file: "botops.yml")
        config.path = "/opt/bot"
        #expect(RecoverFacts.command(config, marker: marker).script.text.contains(CronDaemonProbe.script.text))
        func facts(_ cron: String) -> RecoverFacts {
            RecoverFacts.parse(["\(marker.text) docker", "running", "\(marker.text) cron", cron, "\(marker.text) end"].joined(separator: "\n"), marker: marker)
        }
        #expect(facts("unknown").cronRunning == nil)
        #expect(facts("stopped").cronRunning == false)
        #expect(facts("running").cronRunning == true)
    }

    @Test func theVolumeCheckTellsMissingFromUnknownAndNeverPulls() {
        #expect(RecoverFacts.VolumeState.parse("missing") == .missing)
        #expect(RecoverFacts.VolumeState.parse("no-cluster") == .noCluster)
        #expect(RecoverFacts.VolumeState.parse("unknown docker run exited 125: boom") == .unknown("docker run exited 125: boom"))
        #expect(RecoverFacts.VolumeState.parse("") == .unknown("the volume check said nothing"))
        let script = RecoverFacts.volumeCheckFunction.text
        #expect(script.contains("docker image inspect") && script.contains("No such volume"))
    }

    /// The database container's name reaches status's command only in `ContainerState.script`
    /// (verify's template and parser): status once put it on the services' `docker inspect` with
    /// deploy's state template and took the first state that was no service's for the db's.
    @Test func statusAsksDockerForTheDatabaseOnlyThroughTheOneProbe() throws {
        var config = try BotOpsConfig.parse("host: h\n", file: "botops.yml")
        config.database.container = "botops-db-under-test"
        let reader = StatusReader(config: config, runner: LocalHost(), entries: [], localVersion: "x")
        let marker = SectionMarker()
        let command = reader.containersAndStates(marker: marker).script.text
        let probe = ContainerState.script(container: config.database.container, marker: marker).text
        #expect(command.contains(probe), "\(command)")
        #expect(!command.replacing(probe, with: "").contains(config.database.container), "\(command)")
    }

    /// Status shows the database container from verify's reading of it (`ContainerState`).
    @Test func theDatabaseIsShownFromTheOneReadingOfItsState() throws {
        let marker = SectionMarker()
        func shown(_ state: [String], status: Int = 0) -> HostStatus.Container {
            let output = (["\(marker.text) db-status", "\(status)", "\(marker.text) db-state"] + state).joined(separator: "\n")
            return StatusReader.databaseContainer("db", try? ContainerState.parse(sections: marker.split(output), now: 1_795_375_056 + 90))
        }
        let json = #"{"Status":"running","Running":true,"Paused":false,"Restarting":false,"StartedAt":"2026-11-22T19:17:36.123456789Z","Health":{"Status":"healthy"}}"#
        #expect(shown(["ok 3 3b8b9db5918ac86d475da5b252cd50ac95e05ca2 " + json])
            == HostStatus.Container(service: "db", container: "3b8b9db5918a", state: "running", health: "healthy", uptimeSeconds: 90, restarts: 3, lastVerified: false))
        let paused = json.replacing(#""Status":"running""#, with: #""Status":"paused""#).replacing(#","Health":{"Status":"healthy"}"#, with: "")
        #expect(shown(["paused 0 3b8b9db5918ac86d " + paused])
            == HostStatus.Container(service: "db", container: "3b8b9db5918a", state: "paused", health: nil, uptimeSeconds: nil, restarts: 0, lastVerified: false))
        #expect(shown(["Error: No such container: db"], status: 1) == HostStatus.Container(service: "db", state: "missing", lastVerified: false))
        #expect(shown(["something else"]) == HostStatus.Container(service: "db", state: "missing", lastVerified: false))
    }
}
