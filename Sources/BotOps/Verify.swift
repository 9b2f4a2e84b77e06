import Checks
import Foundation
import Remote

extension BotOpsConfig {
    /// The checks' view of the config.
    public func checkSettings(commandTimeout: Duration = .seconds(60)) -> CheckSettings {
        CheckSettings(
            appPath: path, cronMatch: checks.cronMatch, reportScript: checks.reportScript, queries: checks.queries,
            reportGlob: checks.reportGlob, linkageWindow: checks.linkageWindow, minLinkedTrades: checks.minLinkedTrades,
            databaseContainer: database.container, databaseUser: database.user, databaseName: database.name,
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
    /// design.md §7: 0 all passed (warnings allowed), 1 a check failed, 3 the host went away.
    public var exitCode: BotOpsExitCode {
        if connectionLost != nil { return .unreachable }
        return failed ? .failed : .success
    }
}

/// Writes `text` to `path` through a temporary file and a rename, so a CI reader never sees half a report.
public func writeAtomically(_ text: String, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    try Data(text.utf8).write(to: temporary)
    if FileManager.default.fileExists(atPath: url.path) {
        _ = try FileManager.default.replaceItemAt(url, withItemAt: temporary)
    } else {
        try FileManager.default.moveItem(at: temporary, to: url)
    }
}
