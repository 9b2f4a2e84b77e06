import Checks
import Foundation
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
