import Basics
import Checks
import Cron
import Foundation

/// verify's report with the scheduled-run verdicts and the backup age added in the report's own
/// format: sections after the table, `scheduled_runs` and `backup_age` keys in JSON,
/// `botops.scheduled` and `botops.backup` testsuites in JUnit.
public struct VerifyWithScheduledRuns: Sendable {
    public let report: VerifyReport
    public let scheduled: [ScheduledRunVerdict]
    public let backupAge: BackupAgeVerdict?

    public init(report: VerifyReport, scheduled: [ScheduledRunVerdict], backupAge: BackupAgeVerdict? = nil) {
        self.report = report
        self.scheduled = scheduled
        self.backupAge = backupAge
    }

    /// A missed or erroring scheduled run, or a stale backup, is a warning: the exit code stays
    /// the checks', but `--notify` reports it.
    public var needsAttention: Bool {
        report.exitCode != .success || scheduled.contains { $0.status == .warn } || backupAge?.status == .warn
    }

    public func render(_ format: ReportFormat, colour: Bool) -> String {
        let base = format.render(report, colour: colour)
        guard !scheduled.isEmpty || backupAge != nil else { return base }
        switch format {
        case .table:
            var text = base
            if !scheduled.isEmpty {
                let lines = scheduled.map { "  \(Self.label($0.status.rawValue))  \($0.entry)  \(terminalSafe($0.message))" }
                text += "scheduled runs (crontab.d entries with 'expects'):\n" + lines.joined(separator: "\n") + "\n"
            }
            if let backupAge {
                text += "backups:\n  \(Self.label(backupAge.status.rawValue))  \(terminalSafe(backupAge.message))\n"
            }
            return text
        case .json:
            guard var object = (try? JSONSerialization.jsonObject(with: Data(base.utf8))) as? [String: Any] else { return base }
            if !scheduled.isEmpty {
                object["scheduled_runs"] = scheduled.map { verdict -> [String: Any] in
                    ["entry": verdict.entry, "status": verdict.status.rawValue, "message": verdict.message,
                     "last_fire": verdict.lastFire.map { formatUTC(Int($0)) } ?? NSNull(),
                     "output": verdict.output ?? NSNull(), "log_error": verdict.logError ?? NSNull()]
                }
            }
            if let backupAge {
                object["backup_age"] = ["status": backupAge.status.rawValue, "message": backupAge.message,
                                        "newest": backupAge.newest ?? NSNull(), "age_seconds": backupAge.ageSeconds ?? NSNull(),
                                        "max_age_seconds": backupAge.maxAgeSeconds ?? NSNull()] as [String: Any]
            }
            guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return base }
            return String(decoding: data, as: UTF8.self) + "\n"
        case .junit:
            var suites = ""
            if !scheduled.isEmpty {
                suites += Self.junitSuite("botops.scheduled", scheduled.map { ($0.entry, $0.status.rawValue, $0.message) })
            }
            if let backupAge {
                suites += Self.junitSuite("botops.backup", [("backup-age", backupAge.status.rawValue, backupAge.message)])
            }
            guard let end = base.range(of: "</testsuites>", options: .backwards) else { return base }
            return base.replacingCharacters(in: end.lowerBound..<end.lowerBound, with: suites)
        }
    }

    private static func label(_ status: String) -> String {
        status.uppercased().padding(toLength: 4, withPad: " ", startingAt: 0)
    }

    /// A testsuite of passing testcases, a warning in `<system-out>` as the checks' own.
    private static func junitSuite(_ name: String, _ cases: [(name: String, status: String, message: String)]) -> String {
        var suite = "  <testsuite name=\"\(name)\" tests=\"\(cases.count)\" failures=\"0\" errors=\"0\" skipped=\"0\">\n"
        for item in cases {
            let prefix = item.status == "warn" ? "WARN: " : ""
            suite += "    <testcase classname=\"\(name)\" name=\"\(xmlEscaped(item.name))\">\n"
            suite += "      <system-out>\(xmlEscaped(prefix + item.message))</system-out>\n    </testcase>\n"
        }
        return suite + "  </testsuite>\n"
    }
}

/// Runs botops.yml's `notify.command` on this machine with a report on its stdin (a mail or chat
/// webhook script), so a broken Monday is known on Monday.
public struct Notifier: Sendable {
    public let command: String

    public init(command: String) {
        self.command = command
    }

    /// Nil when the command succeeded, else what went wrong (never the report itself).
    public func send(_ report: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let input = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return "could not start notify.command: \(error)"
        }
        // A command that does not read its stdin must not make botops fail: ignore EPIPE.
        signal(SIGPIPE, SIG_IGN)
        try? input.fileHandleForWriting.write(contentsOf: Data(report.utf8))
        try? input.fileHandleForWriting.close()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return "notify.command exited with \(process.terminationStatus): \(terminalSafe(String(stderr.suffix(300))))"
        }
        return nil
    }
}
