@testable import BotOpsKit
import HostCommands
import Foundation
import Remote
import Testing

/// The parsers of status's own probe and of the backup records (pure).
@Suite struct StatusParsingTests {
    @Test func theNewestVerifiedBackupIsTheVerifiedRecordWithTheGreatestTime() {
        let marker = SectionMarker()
        func record(_ id: String, _ time: String, _ status: String) -> String {
            #"{"id":"\#(id)","time":"\#(time)","status":"\#(status)","size":10,"tables":[{"schema":"public","name":"trade_records","rows":3,"checksum":"x"}]}"#
        }
        func dump(_ file: String, _ size: String) -> String { "\(marker.text) dump \(file)\n\(size)" }
        let output = [
            "\(marker.text) record 20261201T000000Z.json", record("20261201T000000Z", "2026-12-01T00:00:00Z", "unverified"), dump("20261201T000000Z.json", "10"),
            // Newer and verified, but its dump is gone or cut short: it restores nothing.
            "\(marker.text) record 20261110T000000Z.json", record("20261110T000000Z", "2026-11-10T00:00:00Z", "verified"), dump("20261110T000000Z.json", "missing"),
            "\(marker.text) record 20261109T000000Z.json", record("20261109T000000Z", "2026-11-09T00:00:00Z", "verified"), dump("20261109T000000Z.json", "4"),
            "\(marker.text) record 20261102T000000Z-b.json", record("20261102T000000Z-b", "2026-11-02T00:00:00Z", "verified"), dump("20261102T000000Z-b.json", "10"),
            "\(marker.text) record 20261101T000000Z.json", record("20261101T000000Z", "2026-11-01T00:00:00Z", "verified"), dump("20261101T000000Z.json", "10"),
            "\(marker.text) record 20261203T000000Z.json", record("20261203T000000Z", "2026-12-03T00:00:00Z", "failed"),
            "\(marker.text) record 20261204T000000Z.json", "{\"id\": \"20261204T0",
        ].joined(separator: "\n")
        let records = BackupRecords.parse(marker.split(output))
        #expect(records.records.count == 6, "a half-written record is left out")
        #expect(records.newestVerified?.id == "20261102T000000Z-b")
        #expect(records.newestVerified?.tables?.map(\.name) == ["trade_records"])
        #expect(BackupRecords(records: []).newestVerified == nil)
        #expect(BackupRecords.restoreCommand(records.newestVerified!) == "botops restore 20261102T000000Z-b --yes")
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
            """)
        #expect(facts.newestReport == HostStatus.FileInfo(path: "/opt/bot/logs/weekly review 1.txt", modified: 900, ageSeconds: 100, size: 42))
        #expect(facts.stateDisk == HostStatus.Disk(name: "state-dir", mount: "/", freeBytes: 2 * 1024 * 1024))
        #expect(facts.hostVersion == nil)
        #expect(facts.backups.records.isEmpty)
        let installed = extras.parse("\(m) now\n5\n\(m) version\n0.15.0\n\(m) end\n")
        #expect(installed.hostVersion == "0.15.0" && installed.newestReport == nil)
    }

    @Test func theJSONHasEveryKeyWithNullForWhatWasNotFound() throws {
        let missing = HostStatus.Container(service: "db", state: "missing", lastVerified: false)
        let status = HostStatus(destination: "bot@h:22", readAt: 0, durationMS: 5, services: [], database: missing,
                                checkout: HostStatus.Checkout(present: false, clean: false, changed: []),
                                lock: HostStatus.Lock(state: "free"), lastDeploy: nil, cron: [], cronProblem: nil, newestReport: nil,
                                newestVerifiedBackup: nil, disk: [], botops: HostStatus.Versions(local: "1", host: nil), problems: [])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.json.utf8)) as? [String: Any])
        for key in ["last_deploy", "newest_report", "newest_verified_backup", "cron_problem"] {
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
        let facts = CheckoutFacts.parse(output, termination: .exited(0), marker: marker)
        #expect(facts.checkout.present && facts.checkout.revision == nil && !facts.checkout.clean)
        #expect(!CheckoutFacts.parse("", termination: .exited(70), marker: marker).checkout.present)
    }
}
