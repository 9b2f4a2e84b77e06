/// A unified diff (`diff -u` format, three lines of context) of two line lists; empty when equal.
public func unifiedDiff(_ old: [[UInt8]], _ new: [[UInt8]], fromLabel: String, toLabel: String, context: Int = 3) -> String {
    let operations = editScript(old, new)
    guard operations.contains(where: { $0.kind != .keep }) else { return "" }
    let changed = operations.indices.filter { operations[$0].kind != .keep }
    // Hunks: runs of changes less than two contexts apart, each with its context around it.
    var hunks: [ClosedRange<Int>] = []
    for position in changed {
        if let last = hunks.last, position - last.upperBound - 1 <= 2 * context {
            hunks[hunks.count - 1] = last.lowerBound...position
        } else {
            hunks.append(position...position)
        }
    }
    var output = "--- \(fromLabel)\n+++ \(toLabel)\n"
    for changes in hunks {
        let hunk = operations[max(changes.lowerBound - context, 0)..<min(changes.upperBound + context + 1, operations.count)]
        let oldStart = (hunk.first?.oldIndex ?? 0) + 1
        let newStart = (hunk.first?.newIndex ?? 0) + 1
        let oldCount = hunk.filter { $0.kind != .insert }.count
        let newCount = hunk.filter { $0.kind != .delete }.count
        output += "@@ -\(range(oldStart, oldCount)) +\(range(newStart, newCount)) @@\n"
        for operation in hunk {
            switch operation.kind {
            case .keep: output += " " + String(decoding: old[operation.oldIndex], as: UTF8.self) + "\n"
            case .delete: output += "-" + String(decoding: old[operation.oldIndex], as: UTF8.self) + "\n"
            case .insert: output += "+" + String(decoding: new[operation.newIndex], as: UTF8.self) + "\n"
            }
        }
    }
    return output
}

private func range(_ start: Int, _ count: Int) -> String {
    // diff -u names an empty range by the line before it.
    count == 1 ? "\(start)" : "\(count == 0 ? start - 1 : start),\(count)"
}

private struct Operation {
    enum Kind { case keep, delete, insert }
    let kind: Kind
    /// Position in the old list (for insertions: where the next old line would be).
    let oldIndex: Int
    let newIndex: Int
}

/// Longest-common-subsequence edit script; crontabs are small enough for the quadratic table.
private func editScript(_ old: [[UInt8]], _ new: [[UInt8]]) -> [Operation] {
    let n = old.count
    let m = new.count
    var table = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
    for i in stride(from: n - 1, through: 0, by: -1) {
        for j in stride(from: m - 1, through: 0, by: -1) {
            table[i][j] = old[i] == new[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
        }
    }
    var operations: [Operation] = []
    var i = 0
    var j = 0
    while i < n || j < m {
        if i < n, j < m, old[i] == new[j] {
            operations.append(Operation(kind: .keep, oldIndex: i, newIndex: j))
            i += 1
            j += 1
        } else if i < n, j == m || table[i + 1][j] >= table[i][j + 1] {
            operations.append(Operation(kind: .delete, oldIndex: i, newIndex: j))
            i += 1
        } else {
            operations.append(Operation(kind: .insert, oldIndex: i, newIndex: j))
            j += 1
        }
    }
    return operations
}
