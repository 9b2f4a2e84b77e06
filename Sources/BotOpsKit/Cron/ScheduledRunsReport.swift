import Basics
import Checks
import Cron
import Foundation

/// verify's report with the scheduled-run verdicts added in the report's own format: a section
/// after the table, a `scheduled_runs` key in JSON, a `botops.scheduled` testsuite in JUnit.
public struct VerifyWithScheduledRuns: Sendable {
    public let report: VerifyReport
    public let scheduled: [ScheduledRunVerdict]

    public init(report: VerifyReport, scheduled: [ScheduledRunVerdict]) {
        self.report = report
        self.scheduled = scheduled
    }

    /// A missed or erroring scheduled run is a warning: the exit code stays the checks', but
    /// `--notify` reports it.
    public var needsAttention: Bool {
        report.exitCode != .success || scheduled.contains { $0.status == .warn }
    }

    public func render(_ format: ReportFormat, colour: Bool) -> String {
        let base = format.render(report, colour: colour)
        guard !scheduled.isEmpty else { return base }
        switch format {
        case .table:
            let lines = scheduled.map { "  \($0.status.rawValue.uppercased().padding(toLength: 4, withPad: " ", startingAt: 0))  \($0.entry)  \(terminalSafe($0.message))" }
            return base + "scheduled runs (crontab.d entries with 'expects'):\n" + lines.joined(separator: "\n") + "\n"
        case .json:
            guard var object = (try? JSONSerialization.jsonObject(with: Data(base.utf8))) as? [String: Any] else { return base }
            object["scheduled_runs"] = scheduled.map { verdict -> [String: Any] in
                ["entry": verdict.entry, "status": verdict.status.rawValue, "message": verdict.message,
                 "last_fire": verdict.lastFire.map { formatUTC(Int($0)) } ?? NSNull(),
                 "output": verdict.output ?? NSNull(), "log_error": verdict.logError ?? NSNull()]
            }
            guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return base }
            return String(decoding: data, as: UTF8.self) + "\n"
        case .junit:
            var suite = "  <testsuite name=\"botops.scheduled\" tests=\"\(scheduled.count)\" failures=\"0\" errors=\"0\" skipped=\"0\">\n"
            for verdict in scheduled {
                let prefix = verdict.status == .warn ? "WARN: " : ""
                suite += "    <testcase classname=\"botops.scheduled\" name=\"\(xmlEscaped(verdict.entry))\">\n"
                suite += "      <system-out>\(xmlEscaped(prefix + verdict.message))</system-out>\n    </testcase>\n"
            }
            suite += "  </testsuite>\n"
            guard let end = base.range(of: "</testsuites>", options: .backwards) else { return base }
            return base.replacingCharacters(in: end.lowerBound..<end.lowerBound, with: suite)
        }
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
