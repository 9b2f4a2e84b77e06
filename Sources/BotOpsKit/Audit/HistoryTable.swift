import Checks

/// `botops history`: the audit's records as a table, one deploy per line with its steps beneath.
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
            return [record.time, who, record.action, record.services.joined(separator: ","), "\(from) → \(to)\(branch)", record.result]
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
                text += "    " + record.steps.map { "\($0.name) \(formatFixed(Double($0.durationMS) / 1000, digits: 1)) s\($0.status == "ok" ? "" : " " + $0.status.uppercased())" }
                    .joined(separator: ", ") + "\n"
            }
            if let failure = record.failure { text += "    \(failure)\n" }
            if let rollback = record.rollback { text += "    rollback to \(rollback.to.prefix(8)): \(rollback.result)\(rollback.failure.map { " (\($0))" } ?? "")\n" }
            if let reason = record.reason { text += "    reason: \(reason)\n" }
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
