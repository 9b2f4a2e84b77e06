@testable import BotOpsKit
@testable import Checks
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// verify's backup-age note: judged with an injected clock, and shown in all three formats
/// beside the checks, never as a tenth check.
@Suite struct BackupAgeVerdictTests {
    static let now = Date(timeIntervalSince1970: 1_796_500_000)

    static func entry(hoursBefore hours: Double, status: BackupRecord.Status = .verified) -> BackupCatalog.Entry {
        let id = BackupID(date: now.addingTimeInterval(-hours * 3600), label: nil)
        let record = BackupRecord(id: id, database: "bot_trader_db", serverVersion: "15", size: 10, sha256: "", tocDigest: "",
                                  status: status, statusReason: nil, keep: false, tables: [], sequences: [])
        return BackupCatalog.Entry(record: record, sizeOnDisk: 10)
    }

    static func settings(configured: Bool = true, maxAge: Duration? = .seconds(24 * 3600)) -> BackupSettings {
        var settings = BackupSettings()
        settings.configured = configured
        settings.maxAge = maxAge
        return settings
    }

    @Test func nothingIsSaidWithoutBackupsOrABackupSection() {
        #expect(BackupAgeVerdict.judge([], settings: Self.settings(configured: false), now: Self.now) == nil)
        #expect(BackupAgeVerdict.judge([], settings: Self.settings(), now: Self.now)?.status == .warn)
        // One backup is enough to be judged, with or without `backup:`.
        #expect(BackupAgeVerdict.judge([Self.entry(hoursBefore: 2)], settings: Self.settings(configured: false), now: Self.now)?.status == .pass)
    }

    @Test func theNewestVerifiedBackupIsJudgedAgainstMaxAge() throws {
        let fresh = try #require(BackupAgeVerdict.judge([Self.entry(hoursBefore: 30), Self.entry(hoursBefore: 23)], settings: Self.settings(), now: Self.now))
        #expect(fresh.status == .pass)
        #expect(fresh.ageSeconds == 23 * 3600)
        #expect(fresh.message.contains("is 23 h old (backup.max_age: 24 h)"), "\(fresh.message)")

        // A newer failed backup does not count: the newest verified one is 25 h old.
        let stale = try #require(BackupAgeVerdict.judge([Self.entry(hoursBefore: 25), Self.entry(hoursBefore: 1, status: .failed)],
                                                        settings: Self.settings(), now: Self.now))
        #expect(stale.status == .warn)
        #expect(stale.message.contains("is 25 h old (backup.max_age: 24 h): the scheduled backup has not run or has failed"), "\(stale.message)")

        let onlyFailed = try #require(BackupAgeVerdict.judge([Self.entry(hoursBefore: 1, status: .failed)], settings: Self.settings(), now: Self.now))
        #expect(onlyFailed.status == .warn)
        #expect(onlyFailed.message.hasPrefix("no verified backup exists"))
    }

    @Test func maxAgeOffNeverWarns() throws {
        let old = try #require(BackupAgeVerdict.judge([Self.entry(hoursBefore: 24 * 90)], settings: Self.settings(maxAge: nil), now: Self.now))
        #expect(old.status == .pass)
        #expect(old.message.contains("(backup.max_age: off)"))
        #expect(BackupAgeVerdict.judge([], settings: Self.settings(maxAge: nil), now: Self.now)?.status == .pass)
    }

    @Test func itAppearsInEveryFormatAndMakesNotifyFireButNotTheExitCode() throws {
        let check = CheckResult(id: .dbRunning, title: "db-running", status: .pass, message: "running", evidence: [], duration: .zero)
        let report = VerifyReport(destination: "h", startedAt: Self.now, duration: .zero, results: [check], connectionLost: nil)
        let stale = try #require(BackupAgeVerdict.judge([Self.entry(hoursBefore: 49)], settings: Self.settings(), now: Self.now))
        var full = report
        full.backupAge = stale
        #expect(full.needsAttention)
        #expect(full.exitCode == .success)
        #expect(!report.needsAttention)

        #expect(ReportFormat.table.render(full, colour: false).hasSuffix("backups:\n  WARN  \(stale.message)\n"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(ReportFormat.json.render(full, colour: false).utf8)) as? [String: Any])
        let age = try #require(json["backup_age"] as? [String: Any])
        #expect(age["status"] as? String == "warn")
        #expect(age["age_seconds"] as? Int == 49 * 3600)
        #expect(age["max_age_seconds"] as? Int == 24 * 3600)
        #expect((json["checks"] as? [Any])?.count == 1, "the backup age is not a check")
        let junit = ReportFormat.junit.render(full, colour: false)
        #expect(junit.contains("<testsuite name=\"botops.backup\" tests=\"1\" failures=\"0\""))
        #expect(junit.contains("<system-out>WARN: the newest verified backup"))
        #expect(try XMLDocument(xmlString: junit).rootElement()?.name == "testsuites")
    }
}
