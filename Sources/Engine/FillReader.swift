import Foundation

public enum FillFormat: String, Sendable, CaseIterable {
    case jsonl, csv
}

public struct FillFormatError: Error, Equatable, CustomStringConvertible {
    public var record: Int
    public var problem: String
    public var description: String { "record \(record): \(problem)" }
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
        for line in text.split(whereSeparator: \.isNewline) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let number = records.count + 1
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw FillFormatError(record: number, problem: "not a JSON object")
            }
            var fields: [String: String] = [:]
            for (key, value) in object {
                switch value {
                case let text as String: fields[key] = text
                case let number as NSNumber: fields[key] = number.stringValue
                case is NSNull: continue
                default: throw FillFormatError(record: number, problem: "field '\(key)' must be a string or a number")
                }
            }
            records.append(RawFill(fields))
        }
        return records
    }

    static func csv(_ text: String) throws -> [RawFill] {
        var lines = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
        guard !lines.isEmpty else { return [] }
        let header = splitCSV(lines.removeFirst()).map { $0.trimmingCharacters(in: .whitespaces) }
        return try lines.enumerated().map { index, line in
            let values = splitCSV(line)
            guard values.count == header.count else {
                throw FillFormatError(record: index + 1, problem: "\(values.count) fields, but the header has \(header.count)")
            }
            return RawFill(Dictionary(zip(header, values), uniquingKeysWith: { first, _ in first }))
        }
    }

    /// One CSV line; fields may be double-quoted with "" for a quote.
    static func splitCSV(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            switch (character, quoted) {
            case ("\"", true):
                // A doubled quote inside quotes is a literal quote; a single one ends the quoting.
                var lookahead = iterator
                if lookahead.next() == "\"" { current.append("\""); iterator = lookahead } else { quoted = false }
            case ("\"", false) where current.isEmpty: quoted = true
            case (",", false): fields.append(current); current = ""
            default: current.append(character)
            }
        }
        fields.append(current)
        return fields
    }
}
