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
    /// Reads a file's bytes. Text must be UTF-8 (a leading byte order mark is skipped): a record
    /// that is not is refused, since decoding it lossily could make two order ids one.
    public static func read(_ bytes: [UInt8], format: FillFormat) throws -> [Fill] {
        let lines = nonEmptyLines(bytes.starts(with: byteOrderMark) ? Array(bytes.dropFirst(byteOrderMark.count)) : bytes)
        let raw = try format == .jsonl ? jsonl(lines) : csv(lines)
        return try raw.enumerated().map { try $0.element.validated(record: $0.offset + 1) }
    }

    public static func read(_ text: String, format: FillFormat) throws -> [Fill] {
        try read(Array(text.utf8), format: format)
    }

    /// What spreadsheet programs put before UTF-8 text.
    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Lines split at LF or CR (so CRLF too), empty ones dropped. Bytes, not Characters: a backfill
    /// has megabytes of them, and both formats' structure is ASCII.
    static func nonEmptyLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        bytes.split(whereSeparator: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") })
    }

    static func jsonl(_ lines: [ArraySlice<UInt8>]) throws -> [RawFill] {
        var records: [RawFill] = []
        for line in lines where !line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) {
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

    static func csv(_ lines: [ArraySlice<UInt8>]) throws -> [RawFill] {
        var lines = lines[...]
        guard !lines.isEmpty else { return [] }
        let header = try splitCSV(lines.removeFirst(), record: 0).map { $0.trimmingCharacters(in: .whitespaces) }
        var seen = Set<String>()
        if let repeated = header.first(where: { !seen.insert($0).inserted }) {
            throw FillFormatError(record: 0, problem: "\(shown(repeated)) appears twice")
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
    static func splitCSV(_ line: ArraySlice<UInt8>, record: Int) throws -> [String] {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ",")
        func text(_ bytes: some Collection<UInt8>, field: Int) throws -> String {
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw FillFormatError(record: record, problem: "field \(field) is not UTF-8 text")
            }
            return text
        }
        var fields: [String] = []
        var position = line.startIndex
        while true {
            var field: String
            if position < line.endIndex, line[position] == quote {
                // Quoted: up to the quote not doubled; then a comma or the end must follow.
                var bytes: [UInt8] = []
                position += 1
                while true {
                    guard position < line.endIndex else {
                        throw FillFormatError(record: record, problem: "a quote in field \(fields.count + 1) is never closed")
                    }
                    if line[position] == quote {
                        if position + 1 < line.endIndex, line[position + 1] == quote {
                            bytes.append(quote)
                            position += 2
                            continue
                        }
                        position += 1
                        break
                    }
                    bytes.append(line[position])
                    position += 1
                }
                guard position == line.endIndex || line[position] == comma else {
                    throw FillFormatError(record: record, problem: "text after a closing quote in field \(fields.count + 1)")
                }
                field = try text(bytes, field: fields.count + 1)
            } else {
                let end = line[position...].firstIndex(of: comma) ?? line.endIndex
                field = try text(line[position..<end], field: fields.count + 1)
                position = end
            }
            fields.append(field)
            guard position < line.endIndex else { return fields }
            position += 1  // the comma
        }
    }
}
