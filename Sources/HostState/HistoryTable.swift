import Basics

/// `botops history`: the audit's records as a table, one deploy per line with its steps beneath.
/// Every value is made terminal-safe: the audit is a file on the host anyone with access may edit.
public struct HistoryTable: Sendable {
    public init() {}

    public func render(_ records: [AuditRecord]) -> String {
        guard !records.isEmpty else { return "no deploys recorded yet\n" }
        let header = ["TIME", "WHO", "ACTION", "SERVICES", "FROM → TO", "RESULT"]
        let rows = records.map { record -> [String] in
            let who = "\(record.localUser)@\(record.machine)" + (record.sshUser.map { " as \($0)" } ?? "")
            let from = record.from.map { String($0.prefix(8)) } ?? "-"
            let to = record.to.map { String($0.prefix(8)) } ?? "-"
            let branch = record.branch.map { " (\($0))" } ?? ""
            return [record.time, who, record.action, record.services.joined(separator: ","), "\(from) → \(to)\(branch)", record.result].map { terminalSafe($0) }
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingTrailingSpaces()
        }
        var text = line(header) + "\n"
        for (record, row) in zip(records, rows) {
            text += line(row) + "\n"
            if !record.steps.isEmpty {
                text += "    " + terminalSafe(record.steps.map { "\($0.name) \(formatFixed(Double($0.durationMS) / 1000, digits: 1)) s\($0.status == "ok" ? "" : " " + $0.status.uppercased())" }
                    .joined(separator: ", ")) + "\n"
            }
            if let failure = record.failure { text += "    \(terminalSafe(failure))\n" }
            if let rollback = record.rollback {
                text += "    " + terminalSafe("rollback to \(rollback.to.prefix(8)): \(rollback.result)\(rollback.failure.map { " (\($0))" } ?? "")") + "\n"
            }
            if let reason = record.reason { text += "    reason: \(terminalSafe(reason))\n" }
            if record.recordFailed == true { text += "    the release record could not be written\n" }
        }
        return text
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
