import Foundation

public enum FillFormat: String, Sendable, CaseIterable {
    case jsonl, csv
}

public struct FillFormatError: Error, Equatable, CustomStringConvertible {
    /// 1-based; 0 is the CSV header.
    public var record: Int
    public var problem: String
    public var description: String { record == 0 ? "header: \(problem)" : "record \(record): \(problem)" }
}

/// Reads fills from JSONL (one object per line) or CSV (a header row naming the fields) and
/// validates every record before any is written, so a bad file writes nothing.
public enum FillReader {
    public static func read(_ text: String, format: FillFormat) throws -> [Fill] {
        let raw = try format == .jsonl ? jsonl(text) : csv(text)
        return try raw.enumerated().map { try $0.element.validated(record: $0.offset + 1) }
    }

    static func jsonl(_ text: String) throws -> [RawFill] {
        var records: [RawFill] = []
        for line in text.split(whereSeparator: \.isNewline) where !line.allSatisfy(\.isWhitespace) {
            let number = records.count + 1
            let object: [(key: String, value: FlatJSONValue)]
            do {
                object = try FlatJSON.object(line)
            } catch {
                throw FillFormatError(record: number, problem: error.problem)
            }
            var fields: [String: String] = [:]
            for (key, value) in object {
                switch value {
                case .string(let text), .number(let text): fields[key] = text
                case .null: continue
                case .bool(let flag): throw FillValidationError(record: number, field: key, problem: "\(flag) is not a string or a number")
                case .nested: throw FillValidationError(record: number, field: key, problem: "must be a string or a number")
                }
            }
            records.append(RawFill(fields))
        }
        return records
    }

    static func csv(_ text: String) throws -> [RawFill] {
        var lines = text.split(whereSeparator: \.isNewline).filter { !$0.isEmpty }
        guard !lines.isEmpty else { return [] }
        let header = try splitCSV(lines.removeFirst(), record: 0).map { $0.trimmingCharacters(in: .whitespaces) }
        var seen = Set<String>()
        if let repeated = header.first(where: { !seen.insert($0).inserted }) {
            throw FillFormatError(record: 0, problem: "'\(repeated)' appears twice")
        }
        return try lines.enumerated().map { index, line in
            let values = try splitCSV(line, record: index + 1)
            guard values.count == header.count else {
                throw FillFormatError(record: index + 1, problem: "\(values.count) fields, but the header has \(header.count)")
            }
            return RawFill(Dictionary(uniqueKeysWithValues: zip(header, values)))
        }
    }

    /// One CSV line; a field may be double-quoted, with "" for a quote inside.
    static func splitCSV(_ line: Substring, record: Int) throws -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var closed = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            switch (character, quoted) {
            case ("\"", true):
                // A doubled quote inside quotes is a literal quote; a single one ends the quoting.
                var lookahead = iterator
                if lookahead.next() == "\"" { current.append("\""); iterator = lookahead } else { quoted = false; closed = true }
            case ("\"", false) where current.isEmpty && !closed: quoted = true
            case (",", false): fields.append(current); current = ""; closed = false
            case (_, false) where closed:
                throw FillFormatError(record: record, problem: "text after a closing quote in field \(fields.count + 1)")
            default: current.append(character)
            }
        }
        guard !quoted else { throw FillFormatError(record: record, problem: "a quote in field \(fields.count + 1) is never closed") }
        fields.append(current)
        return fields
    }
}
