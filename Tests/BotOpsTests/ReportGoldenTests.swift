@testable import BotOpsKit
@testable import Checks
import Foundation
import Remote
import Testing

/// verify's and gate's outputs for fixed reports, byte for byte, as the README and CI readers know
/// them. A change to a golden file is a change users see: name it in the commit. To re-record
/// after an intended change: BOTOPS_RECORD_GOLDEN=1 swift test --filter ReportGoldenTests (which then
/// fails, naming each file it wrote), review the diff, and run it again without the variable.
@Suite struct ReportGoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static let checks = VerifyReport(
        destination: "bot@127.0.0.1:2222", startedAt: Date(timeIntervalSince1970: 1_795_375_056), duration: .milliseconds(1437),
        results: [
            CheckResult(id: .cronScheduled, title: "Cron", status: .pass, message: "0 9 * * 1 /opt/bot/x.sh >> log 2>&1",
                        evidence: [Evidence("line", "0 9 * * 1 /opt/bot/x.sh >> log 2>&1"), Evidence("next", "2026-11-23 09:00")], duration: .milliseconds(74)),
            CheckResult(id: .dbRunning, title: "DB", status: .warn, message: "healthcheck <starting> & \"pending\"",
                        evidence: [], duration: .milliseconds(5)),
            CheckResult(id: .dbConnectivity, title: "Conn", status: .fail, message: "relation \"trade_records\" does not exist\u{1}",
                        evidence: [Evidence("sqlstate", "42P01")], duration: .milliseconds(40)),
            CheckResult(id: .reportFile, title: "File", status: .skip, message: "skipped: report-generation failed",
                        evidence: [], duration: .zero),
        ])

    static let scheduled = [
        ScheduledRunVerdict(entry: "weekly-strategy-review", status: .warn,
                            message: "missed: /opt/bot/logs/weekly_review_cron.log was not written since the fire at 2027-01-04 09:00 America/Los_Angeles (2027-01-04 17:00 UTC)",
                            lastFire: 1_799_082_000, output: nil, logError: nil),
        ScheduledRunVerdict(entry: "nightly-report", status: .pass, message: "the fire at 2027-01-04 02:00 UTC ran and wrote /opt/bot/reports/r.txt",
                            lastFire: 1_799_028_000, output: "/opt/bot/reports/r.txt", logError: nil),
    ]

    static let backupAge = BackupAgeVerdict(status: .warn, message: "the newest verified backup, 20270102T020000Z, is 2 d old (backup.max_age: 1 d)",
                                            newest: "20270102T020000Z", ageSeconds: 200_000, maxAgeSeconds: 86_400)

    static var withNotes: VerifyReport {
        var report = checks
        report.connectionLost = .connectionLost(host: "127.0.0.1", detail: "socket closed", commands: ["docker inspect db"])
        report.scheduledRuns = scheduled
        report.backupAge = backupAge
        return report
    }

    static let gate = GateReport(
        destination: "bot@127.0.0.1:2222", service: "sighook", at: 1_795_375_056,
        verdicts: [GateVerdict(.blackout, .pass, "clear; next window: weekly-strategy-review fires at 2026-11-23 09:00 America/Los_Angeles"),
                   GateVerdict(.hostReachable, .pass, "connected to bot@127.0.0.1:2222"),
                   GateVerdict(.cleanCheckout, .fail, "/opt/bot has 1 uncommitted change: M x.sh. Commit or discard them (git stash) before deploying."),
                   GateVerdict(.branch, .pass, "on main"), GateVerdict(.services, .skip, "not judged <here> & \"there\""),
                   GateVerdict(.deployLock, .pass, "free"), GateVerdict(.checks, .fail, "db-connectivity: relation")],
        checks: checks)

    static let unreachableGate = GateReport(
        destination: "bot@127.0.0.1:2222", service: nil, at: 1_795_375_056,
        verdicts: [GateVerdict(.blackout, .pass, "clear"), GateVerdict(.hostReachable, .fail, "connection refused"),
                   GateVerdict(.checks, .skip, "the host cannot be reached")],
        checks: nil)

    /// Recording never passes: a run with BOTOPS_RECORD_GOLDEN set (a CI job that inherited it)
    /// compares nothing, so it fails, naming what it wrote; a golden file that is missing fails too.
    static func expect(_ text: String, matches name: String, recording: Bool = ProcessInfo.processInfo.environment["BOTOPS_RECORD_GOLDEN"] == "1",
                       in directory: URL = ReportGoldenTests.directory, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = directory.appendingPathComponent(name)
        if recording {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try text.write(to: file, atomically: true, encoding: .utf8)
            Issue.record("recorded \(file.path) (BOTOPS_RECORD_GOLDEN=1): review it, then run the tests without the variable",
                         sourceLocation: sourceLocation)
            return
        }
        guard let golden = try? String(contentsOf: file, encoding: .utf8) else {
            Issue.record("no golden file \(file.path): record it with BOTOPS_RECORD_GOLDEN=1 and commit it", sourceLocation: sourceLocation)
            return
        }
        #expect(text == golden, "\(name) differs from its golden file:\n\(text)", sourceLocation: sourceLocation)
    }

    /// The comparison itself: recording, a missing file and a difference each fail the test that asked.
    @Test func recordingOrAMissingGoldenFileFails() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("botops-golden-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        withKnownIssue("a golden file that is missing") {
            try Self.expect("text\n", matches: "missing.txt", recording: false, in: scratch)
        }
        withKnownIssue("recording") {
            try Self.expect("text\n", matches: "recorded.txt", recording: true, in: scratch)
        }
        #expect(try String(contentsOf: scratch.appendingPathComponent("recorded.txt"), encoding: .utf8) == "text\n")
        withKnownIssue("a difference") {
            try Self.expect("other\n", matches: "recorded.txt", recording: false, in: scratch)
        }
        try Self.expect("text\n", matches: "recorded.txt", recording: false, in: scratch)
    }

    @Test(arguments: ReportFormat.allCases)
    func verifyChecksOnly(_ format: ReportFormat) throws {
        try Self.expect(format.render(Self.checks, colour: false),
                        matches: "verify.\(format.rawValue)")
    }

    @Test(arguments: ReportFormat.allCases)
    func verifyWithScheduledRunsBackupAgeAndALostConnection(_ format: ReportFormat) throws {
        try Self.expect(format.render(Self.withNotes, colour: false), matches: "verify-notes.\(format.rawValue)")
    }

    /// The notes (crontab.d's scheduled runs, the backup age) add their own keys and change nothing
    /// else: the rest of the document is byte for byte the one without them, pretty-printed with
    /// sorted keys either way.
    @Test func jsonHasOneFormatWithAndWithoutNotes() throws {
        var withNotes = Self.checks
        withNotes.scheduledRuns = Self.scheduled
        withNotes.backupAge = Self.backupAge
        let plain = ReportFormat.json.render(Self.checks, colour: false)
        let noted = ReportFormat.json.render(withNotes, colour: false)
        #expect(plain.hasPrefix("{\n  \"checks\" : ["))
        var lines = noted.split(separator: "\n", omittingEmptySubsequences: false)
        for key in ["\"backup_age\" : {", "\"scheduled_runs\" : ["] {
            let start = try #require(lines.firstIndex(of: Substring("  " + key)), "\(noted)")
            let end = try #require(lines[start...].firstIndex { $0 == "  }," || $0 == "  ]," })
            lines.removeSubrange(start...end)
        }
        #expect(lines.joined(separator: "\n") == plain)
    }

    @Test(arguments: GateFormat.allCases)
    func gate(_ format: GateFormat) throws {
        try Self.expect(format.render(Self.gate), matches: "gate.\(format.rawValue)")
        try Self.expect(format.render(Self.unreachableGate), matches: "gate-unreachable.\(format.rawValue)")
    }
}
