import Foundation
import Postgres

public struct BarIngestError: Error, Equatable, CustomStringConvertible {
    public var line: Int
    public var problem: String
    public var description: String { "line \(line): \(problem)" }
}

/// OHLCV bars from CSV (`symbol,timeframe,ts,open,high,low,close,volume` with that header) into
/// `market_bars` through COPY. Bars already present (same symbol, timeframe, ts) are kept, so a
/// file can be ingested again safely. A `ts` without a zone is UTC, whatever the server's zone.
/// Errors name the file's line (the header is line 1).
public struct MarketBarStore: Sendable {
    public static let header = "symbol,timeframe,ts,open,high,low,close,volume"
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// Returns the number of new bars.
    ///
    /// New data (the usual case) is copied straight into `market_bars`. Only if some bars are
    /// already there (unique violation) is the file copied into a staging table and merged with
    /// ON CONFLICT DO NOTHING, which is several times slower.
    public func ingest(csv: [UInt8]) async throws -> Int {
        let lines = try Self.validatedLines(csv)
        do {
            return try await copy(csv, lines.ranges)
        } catch let error as PostgresError {
            guard let sent = error.copyLine, lines.fileLines.indices.contains(sent - 1),
                  case let .server(_, message, detail, _, _) = error else { throw error }
            throw BarIngestError(line: lines.fileLines[sent - 1], problem: message + (detail.map { "; \($0)" } ?? ""))
        }
    }

    private func copy(_ csv: [UInt8], _ lines: [Range<Int>]) async throws -> Int {
        let columns = "(symbol, timeframe, ts, open, high, low, close, volume)"
        return try await connection.transaction { connection in
            try await connection.query("SET LOCAL TimeZone = 'UTC'")
            try await connection.query("SAVEPOINT direct_copy")
            do {
                return try await connection.copyIn("COPY market_bars \(columns) FROM STDIN") { writer in
                    for line in lines { writer.rawRow(csv[line], separator: UInt8(ascii: ",")) }
                }
            } catch let error as PostgresError where error.sqlstate == "23505" {
                try await connection.query("ROLLBACK TO SAVEPOINT direct_copy")
            }
            try await connection.query("CREATE TEMP TABLE market_bars_staging (LIKE market_bars) ON COMMIT DROP")
            try await connection.copyIn("COPY market_bars_staging \(columns) FROM STDIN") { writer in
                for line in lines { writer.rawRow(csv[line], separator: UInt8(ascii: ",")) }
            }
            return try await connection.query("INSERT INTO market_bars SELECT * FROM market_bars_staging ON CONFLICT DO NOTHING").affectedRows
        }
    }

    /// The data lines: their byte ranges, and each one's line number in the file (blank lines are
    /// skipped, so the two differ).
    struct Lines {
        var ranges: [Range<Int>] = []
        var fileLines: [Int] = []
    }

    /// Fields are plain (no quotes, tabs or backslashes), eight per line; the server checks the
    /// values and names the line if one is wrong.
    static func validatedLines(_ csv: [UInt8]) throws -> Lines {
        var lines = Lines()
        lines.ranges.reserveCapacity(csv.count / 60)
        lines.fileLines.reserveCapacity(csv.count / 60)
        var fileLine = 0
        var start = 0
        var number = 0
        var commas = 0
        for index in 0...csv.count {
            let byte = index < csv.count ? csv[index] : UInt8(ascii: "\n")
            switch byte {
            case UInt8(ascii: ","):
                commas += 1
            case UInt8(ascii: "\""), UInt8(ascii: "\t"), UInt8(ascii: "\\"):
                throw BarIngestError(line: fileLine + 1, problem: "quotes, tabs and backslashes are not expected in bar data")
            case UInt8(ascii: "\n"):
                fileLine += 1
                var end = index
                if end > start, csv[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                if end > start {
                    number += 1
                    if number == 1 {
                        guard String(decoding: csv[start..<end], as: UTF8.self) == header else {
                            throw BarIngestError(line: fileLine, problem: "expected the header \(header)")
                        }
                    } else {
                        guard commas == 7 else { throw BarIngestError(line: fileLine, problem: "\(commas + 1) fields, expected 8") }
                        lines.ranges.append(start..<end)
                        lines.fileLines.append(fileLine)
                    }
                }
                start = index + 1
                commas = 0
            default:
                continue
            }
        }
        return lines
    }
}
