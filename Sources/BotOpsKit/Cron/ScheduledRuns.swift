import Cron
import Foundation
import HostCommands
import Remote

/// "Did the scheduled run happen?": the nine checks run the report script themselves, so a cron
/// that never fired would go unnoticed. For each crontab.d entry with `# botops: expects GLOB`,
/// the output of its last fire must exist (written at or after that fire), and the tail of its
/// cron log must show no error.
public struct ScheduledRunVerdict: Sendable, Equatable {
    public enum Status: String, Sendable { case pass, warn }

    public let entry: String
    public let status: Status
    public let message: String
    public let lastFire: Int64?
    /// The newest matching output and the log line that looks like an error, when there are.
    public let output: String?
    public let logError: String?
}

public struct ScheduledRuns: Sendable {
    public let entries: [CronEntry]
    /// The checkout; relative `expects` patterns are inside it.
    public let appPath: String
    /// The instant judged (seconds since 1970, UTC).
    public let now: Int64
    /// A fire this recent may still be running: the one before it is judged instead.
    public let grace: Int64

    public init(entries: [CronEntry], appPath: String, now: Int64, grace: Int64 = 15 * 60) {
        self.entries = entries
        self.appPath = appPath
        self.now = now
        self.grace = grace
    }

    /// Lines of a cron log that say something went wrong.
    static let errorWords = ["error", "fatal", "failed", "traceback", "permission denied", "not found", "no such file"]

    public func check(on host: any CommandRunner, hostZone: CronZone) async -> [ScheduledRunVerdict] {
        var verdicts: [ScheduledRunVerdict] = []
        for entry in entries where !entry.expects.isEmpty && !entry.schedule.isReboot {
            verdicts.append(await check(entry, on: host, zone: entry.zone ?? hostZone))
        }
        return verdicts
    }

    /// The fire to judge: the last one at least `grace` ago.
    func judgedFire(_ entry: CronEntry, zone: CronZone) -> Int64? {
        entry.schedule.previous(before: now - grace + 1, in: zone)
    }

    private func check(_ entry: CronEntry, on host: any CommandRunner, zone: CronZone) async -> ScheduledRunVerdict {
        guard let fire = judgedFire(entry, zone: zone) else {
            return ScheduledRunVerdict(entry: entry.name, status: .pass, message: "has not fired yet", lastFire: nil, output: nil, logError: nil)
        }
        let when = "\(zone.local(at: fire)) \(zone.identifier) (\(CronZone.utc.local(at: fire)) UTC)"
        let facts: (output: String?, logError: String?)
        do {
            facts = try await probe(entry, since: fire, on: host)
        } catch {
            return ScheduledRunVerdict(entry: entry.name, status: .warn, message: "could not look for the output of the fire at \(when): \(error)",
                                       lastFire: fire, output: nil, logError: nil)
        }
        let patterns = entry.expects.joined(separator: ", ")
        let log = entry.logFile.map { "; see \($0)" } ?? ""
        guard let output = facts.output else {
            return ScheduledRunVerdict(entry: entry.name, status: .warn,
                                       message: "missed: nothing matching \(patterns) was written since the fire at \(when): the scheduled run did not happen or failed\(log)",
                                       lastFire: fire, output: nil, logError: facts.logError)
        }
        if let logError = facts.logError {
            return ScheduledRunVerdict(entry: entry.name, status: .warn,
                                       message: "the fire at \(when) wrote \(output), but its cron log shows an error: \(logError)",
                                       lastFire: fire, output: output, logError: logError)
        }
        return ScheduledRunVerdict(entry: entry.name, status: .pass, message: "the fire at \(when) wrote \(output)",
                                   lastFire: fire, output: output, logError: nil)
    }

    /// One round trip: the newest file matching the patterns written at or after `fire`, and the
    /// tail of the cron log when cron wrote to it since then.
    private func probe(_ entry: CronEntry, since fire: Int64, on host: any CommandRunner) async throws -> (output: String?, logError: String?) {
        let globs = entry.expects.reduce(ShellScript("")) { words, pattern in
            "\(words) \(glob: pattern.hasPrefix("/") ? pattern : appPath + "/" + pattern)"
        }
        var lines: [ShellScript] = [
            "for f in\(globs); do [ -f \"$f\" ] && [ \"$(stat -c %Y \"$f\")\" -ge \(Int(fire)) ] && printf 'output %s %s\\n' \"$(stat -c %Y \"$f\")\" \"$f\"; done",
        ]
        if let log = entry.logFile {
            let path = log.hasPrefix("/") ? log : appPath + "/" + log
            lines.append("if [ -f \(path) ] && [ \"$(stat -c %Y \(path))\" -ge \(Int(fire)) ]; then tail -n 20 \(path) | sed 's/^/log /'; fi")
        }
        lines.append("true")
        let result = try await host.run(RemoteCommand(ShellScript.lines(lines), timeout: .seconds(30))).result
        var newest: (time: Int, path: String)?
        var logError: String?
        for line in result.stdoutText.split(separator: "\n") {
            if line.hasPrefix("output ") {
                let parts = line.dropFirst("output ".count).split(separator: " ", maxSplits: 1)
                if parts.count == 2, let time = Int(parts[0]), time >= newest?.time ?? Int.min {
                    newest = (time, String(parts[1]))
                }
            } else if line.hasPrefix("log ") {
                let text = String(line.dropFirst("log ".count))
                if Self.errorWords.contains(where: { text.lowercased().contains($0) }) { logError = text }
            }
        }
        return (newest?.path, logError)
    }
}
