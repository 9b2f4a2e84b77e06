@testable import BotOpsKit
import Foundation
import Testing

struct BackupRecordTests {
    static let id = BackupID(date: Date(timeIntervalSince1970: 1_796_400_000.7), label: nil)

    static func record() -> BackupRecord {
        BackupRecord(id: id, database: "bot_trader_db", serverVersion: "15.8", size: 10, sha256: "ab", tocDigest: "cd",
                     status: .unverified, statusReason: nil, keep: false,
                     tables: [.init(schema: "public", name: "trade_records", rows: 3, checksum: "-12")],
                     sequences: [.init(schema: "public", name: "s", lastValue: nil)])
    }

    @Test func recordHasTheSharedFormatWithNullsWrittenAndKeysSorted() throws {
        let json = Self.record().json
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["version", "id", "time", "label", "database", "server_version", "size", "sha256", "toc_digest",
                                     "status", "status_reason", "keep", "pushed", "tables", "sequences"])
        #expect(object["label"] is NSNull && object["status_reason"] is NSNull && object["pushed"] is NSNull)
        #expect(json.contains(#""last_value":null"#))
        let keys = ["database", "id", "keep", "label", "pushed", "sequences", "server_version", "sha256", "size", "status", "status_reason", "tables", "time", "toc_digest", "version"]
        let positions = keys.map { json.range(of: "\"\($0)\":")!.lowerBound }
        #expect(positions == positions.sorted())
        #expect(BackupRecord.parse(json) == Self.record())
    }

    @Test func idIsTheUTCSecondThenTheLabel() {
        #expect(Self.id.text == "20261204T160000Z")
        #expect(Self.record().time == "2026-12-04T16:00:00Z")
        let labelled = BackupID(date: Self.id.date, label: "before-deploy")
        #expect(labelled.text == "20261204T160000Z-before-deploy")
        #expect(BackupID.parse(labelled.text) == labelled)
        #expect(BackupID.parse("20261204T160000Z") == Self.id)
        #expect(BackupID.parse("20261204T160000Z-") == nil)
        #expect(BackupID.parse("latest") == nil)
        #expect(BackupID.validLabel("a b") != nil && BackupID.validLabel("$x") != nil && BackupID.validLabel("-x") != nil)
    }

    /// The id is formatted and parsed without DateFormatter (whose ICU data costs botops ~4 MB of
    /// memory); it must still give DateFormatter's UTC text, and take back only real seconds.
    @Test func idFormatsAndParsesLikeAUTCDateFormatter() {
        let reference = DateFormatter()
        reference.locale = Locale(identifier: "en_US_POSIX")
        reference.timeZone = TimeZone(identifier: "UTC")
        reference.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        var generator = SystemRandomNumberGenerator()
        let leap = [951_782_400.0, 1_709_164_799, 1_735_689_599, 1_735_689_600, 4_107_542_400]  // 2000-02-29, leap days and year ends
        for seconds in leap + (0..<2000).map({ _ in Double(Int.random(in: 946_684_800...4_102_444_800, using: &generator)) }) {
            let id = BackupID(date: Date(timeIntervalSince1970: seconds + 0.75), label: nil)
            #expect(id.text == reference.string(from: id.date))
            #expect(BackupID.parse(id.text) == id)
        }
        for invalid in ["20261304T160000Z", "20260230T160000Z", "20261204T250000Z", "20261204T1600-0Z", "20261204 160000Z", "2026120"] {
            #expect(BackupID.parse(invalid) == nil, "\(invalid)")
        }
    }

    @Test func figuresParsePostgresJSONLines() {
        let output = """
            server_version 15.18
            snapshot 00000003-0000001B-1
            table {"schema" : "public", "name" : "trade_records", "rows" : 24, "checksum" : "-166"}
            sequence {"schema" : "public", "name" : "s", "last_value" : null}
            sequence {"schema" : "public", "name" : "t", "last_value" : 12}
            """
        let figures = BackupFigures(parsing: output)
        #expect(figures.facts["server_version"] == "15.18")
        #expect(figures.tables == [.init(schema: "public", name: "trade_records", rows: 24, checksum: "-166")])
        #expect(figures.sequences == [.init(schema: "public", name: "s", lastValue: nil), .init(schema: "public", name: "t", lastValue: 12)])
    }

    @Test func restoredFiguresMustMatchTablesExactlyAndNotTrailSequences() {
        let table = BackupRecord.Table(schema: "public", name: "t", rows: 2, checksum: "5")
        let recorded = BackupFigures(tables: [table], sequences: [.init(schema: "public", name: "s", lastValue: 10)])
        #expect(BackupFigures.differences(recorded: recorded, restored: recorded).isEmpty)
        var ahead = recorded
        ahead.sequences[0].lastValue = 11
        #expect(BackupFigures.differences(recorded: recorded, restored: ahead).isEmpty)
        var behind = recorded
        behind.sequences[0].lastValue = 9
        #expect(BackupFigures.differences(recorded: recorded, restored: behind) == ["sequence public.s: last_value 10 recorded, 9 restored"])
        var changed = recorded
        changed.tables[0].checksum = "6"
        #expect(BackupFigures.differences(recorded: recorded, restored: changed) == ["public.t: checksum 5 recorded, 6 restored"])
        var missing = recorded
        missing.tables = [.init(schema: "public", name: "u", rows: 0, checksum: "0")]
        #expect(BackupFigures.differences(recorded: recorded, restored: missing) == ["public.t: missing from the restored copy", "public.u: restored but not recorded"])
    }

    @Test func backupSettingsAreRead() throws {
        let config = try BotOpsConfig.parse("""
            host: h
            state_dir: /srv/state
            backup:
              min_free_disk: 2GB
              keep: {daily: 3, weekly: 2, monthly: 6}
              max_age: off
            """)
        #expect(config.backup.directory(state: config.deploy.stateDirectory).path == "/srv/state/backups")
        #expect(config.backup.minFreeDiskBytes == 2 << 30)
        #expect([config.backup.keepDaily, config.backup.keepWeekly, config.backup.keepMonthly] == [Int]([3, 2, 6]))
        #expect(config.backup.maxAge == nil && config.backup.configured)
        let defaults = try BotOpsConfig.parse("host: h\n")
        #expect(defaults.backup.directory(state: defaults.deploy.stateDirectory).path == "~/.botops/backups")
        #expect(defaults.backup.maxAge == .seconds(86_400) && !defaults.backup.configured)
        #expect(throws: ConfigError.self) { try BotOpsConfig.parse("host: h\nbackup: {dir: relative}\n") }
        #expect(throws: ConfigError.self) { try BotOpsConfig.parse("host: h\nbackup: {keep: {yearly: 1}}\n") }
    }
}
