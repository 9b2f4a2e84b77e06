import Checks
import Cron
import Foundation
import HostCommands
import Remote

extension BotOpsConfig {
    /// The checks' view of the config.
    public func checkSettings(commandTimeout: Duration = .seconds(60)) -> CheckSettings {
        CheckSettings(
            appPath: path, reportScript: checks.reportScript, queries: checks.queries,
            reportGlob: checks.reportGlob, linkageWindow: checks.linkageWindow, minLinkedTrades: checks.minLinkedTrades,
            minLinkageRate: checks.minLinkageRate, databaseContainer: database.container, databaseUser: database.user, databaseName: database.name,
            commandTimeout: commandTimeout)
    }
}

/// "Run the nine checks" (or `--only`/`--skip`'s selection) with botops.yml's settings: the one
/// way verify, gate, and deploy's baseline and checks steps run them.
public struct Verification: Sendable {
    public let config: BotOpsConfig
    public let runner: CheckRunner
    public let settings: CheckSettings

    /// Throws `CheckSelectionError` (exit 2) for a selection that names no check to run.
    public init(config: BotOpsConfig, only: [CheckID] = [], skip: [CheckID] = [], timeout: Duration = .seconds(60)) throws {
        self.config = config
        runner = try CheckRunner(only: only, skip: skip)
        settings = config.checkSettings(commandTimeout: timeout)
    }

    /// The commands the checks send, each once: what a dry run prints.
    public func plan() -> [PlannedCommand] {
        runner.plan(CheckProbes(settings))
    }

    /// The checks alone, concurrently over `host`'s one connection.
    public func checks(on host: any CommandRunner) async -> VerifyReport {
        await runner.run(in: CheckContext(host: host, settings: settings))
    }

    /// verify's report: the checks with the notes beside them, judged at `now` (seconds since 1970,
    /// UTC) on the same connection: the scheduled runs of `entries` (the evidence is each
    /// command's own log, which report-generation's run of the script does not write) and the
    /// newest backup's age.
    public func report(on host: any CommandRunner, entries: [CronEntry], now: Int64) async -> VerifyReport {
        async let scheduled = ScheduledRuns(entries: entries, appPath: config.path, now: now).check(on: host)
        async let backupAge = backupAge(on: host, now: now)
        var report = await checks(on: host)
        report.scheduledRuns = await scheduled
        report.backupAge = await backupAge
        return report
    }

    /// nil when backups are not in use; a warning when they are and cannot be read.
    private func backupAge(on host: any CommandRunner, now: Int64) async -> BackupAgeVerdict? {
        do {
            let entries = try await BackupCatalog(config: config, runner: host).entries()
            return BackupAgeVerdict.judge(entries, settings: config.backup, now: Date(timeIntervalSince1970: TimeInterval(now)))
        } catch {
            return config.backup.configured ? BackupAgeVerdict.unreadable(error) : nil
        }
    }
}

public enum ReportFormat: String, CaseIterable, Sendable {
    case table, json, junit

    public func render(_ report: VerifyReport, colour: Bool) -> String {
        switch self {
        case .table: return TableReporter(colour: colour).render(report)
        case .json: return JSONReporter().render(report)
        case .junit: return JUnitReporter().render(report)
        }
    }
}

extension VerifyReport {
    /// 0 all passed (warnings allowed), 1 a check failed, 3 the host went away during the run.
    public var exitCode: BotOpsExitCode {
        if connectionLost != nil { return .unreachable }
        return failed ? .failed : .success
    }
}

/// The file `--output` names, checked before any work so a typo costs nothing; written atomically
/// (a temporary file and a rename) so a CI reader never sees half a report.
public struct ReportOutput: Sendable {
    public let path: String

    public init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ReportOutputError(path: path, reason: "it is a directory")
        }
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ReportOutputError(path: path, reason: "no directory \(directory)")
        }
        guard access(directory, W_OK) == 0 else {
            throw ReportOutputError(path: path, reason: "\(directory) is not writable")
        }
        self.path = path
    }

    public func write(_ text: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        do {
            try Data(text.utf8).write(to: temporary)
            guard rename(temporary.path, path) == 0 else {
                throw ReportOutputError(path: path, reason: String(cString: strerror(errno)))
            }
        } catch let error as ReportOutputError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw ReportOutputError(path: path, reason: error.localizedDescription)
        }
    }
}

/// `--output` cannot be written: a usage problem (exit 2), not a failed check.
public struct ReportOutputError: Error, CustomStringConvertible, ExitCodeProviding {
    public var path: String
    public var reason: String

    public var description: String { "cannot write the report to \(path): \(reason). Pass --output a file in a writable directory." }
    public var exitCode: BotOpsExitCode { .usage }
}

extension CheckSelectionError: ExitCodeProviding {
    public var exitCode: BotOpsExitCode { .usage }
}
