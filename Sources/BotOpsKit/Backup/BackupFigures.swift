import Foundation

/// The figures a backup script prints: `table {json}` and `sequence {json}` lines (PostgreSQL's
/// own JSON), and `name value` facts (`size 123`, `sha256 …`).
public struct BackupFigures: Sendable, Equatable {
    public var tables: [BackupRecord.Table] = []
    public var sequences: [BackupRecord.Sequence] = []
    public var facts: [String: String] = [:]

    public init(tables: [BackupRecord.Table] = [], sequences: [BackupRecord.Sequence] = [], facts: [String: String] = [:]) {
        self.tables = tables
        self.sequences = sequences
        self.facts = facts
    }

    public init(parsing output: String) {
        let decoder = JSONDecoder()
        for line in output.split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            let key = String(line[..<space]), value = String(line[line.index(after: space)...])
            switch key {
            case "table":
                if let table = try? decoder.decode(BackupRecord.Table.self, from: Data(value.utf8)) { tables.append(table) }
            case "sequence":
                if let sequence = try? decoder.decode(BackupRecord.Sequence.self, from: Data(value.utf8)) { sequences.append(sequence) }
            default:
                facts[key] = value
            }
        }
    }

    /// What differs between the recorded figures and a restored copy's (empty when they agree).
    /// Tables must match exactly. Sequences are not transactional: pg_dump reads them as they are
    /// when it reaches them, so a restored sequence may be ahead of the record, never behind.
    public static func differences(recorded: BackupFigures, restored: BackupFigures) -> [String] {
        var problems: [String] = []
        let restoredTables = Dictionary(restored.tables.map { ($0.qualifiedName, $0) }, uniquingKeysWith: { first, _ in first })
        for table in recorded.tables {
            guard let copy = restoredTables[table.qualifiedName] else {
                problems.append("\(table.qualifiedName): missing from the restored copy")
                continue
            }
            if copy.rows != table.rows {
                problems.append("\(table.qualifiedName): \(table.rows) rows recorded, \(copy.rows) restored")
            } else if copy.checksum != table.checksum {
                problems.append("\(table.qualifiedName): checksum \(table.checksum) recorded, \(copy.checksum) restored")
            }
        }
        let recordedNames = Set(recorded.tables.map(\.qualifiedName))
        for extra in restored.tables where !recordedNames.contains(extra.qualifiedName) {
            problems.append("\(extra.qualifiedName): restored but not recorded")
        }
        let restoredSequences = Dictionary(restored.sequences.map { ("\($0.schema).\($0.name)", $0.lastValue) }, uniquingKeysWith: { first, _ in first })
        for sequence in recorded.sequences {
            let name = "\(sequence.schema).\(sequence.name)"
            guard let copy = restoredSequences[name] else {
                problems.append("sequence \(name): missing from the restored copy")
                continue
            }
            if let recordedValue = sequence.lastValue, (copy ?? Int64.min) < recordedValue {
                problems.append("sequence \(name): last_value \(recordedValue) recorded, \(copy.map(String.init) ?? "none") restored")
            }
        }
        return problems
    }
}
