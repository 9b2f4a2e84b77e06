import Foundation
import Postgres

public struct BarIngestError: Error, Equatable, CustomStringConvertible {
    public var line: Int
    public var problem: String
    public var description: String { "line \(line): \(problem)" }
}

public struct BarIngestSummary: Sendable, Equatable {
    /// Bars that were not stored before.
    public var added = 0
    /// Stored bars whose values the file changed.
    public var replaced = 0
    /// Stored bars left as they were: identical, or kept with `keepExisting`.
    public var unchanged = 0
}

/// OHLCV bars from CSV (`symbol,timeframe,ts,open,high,low,close,volume` with that header) into
/// `market_bars` through COPY. A bar already stored (same symbol, timeframe, ts) is replaced by the
/// file's, since a re-collected bar is the better one; `keepExisting` keeps the stored bar instead.
/// Within a file the last line for a bar wins (the first with `keepExisting`). A `ts` without a
/// zone is UTC, whatever the server's zone. Errors name the file's line (the header is line 1).
public struct MarketBarStore: Sendable {
    public static let header = "symbol,timeframe,ts,open,high,low,close,volume"
    static let columns = "symbol, timeframe, ts, open, high, low, close, volume"
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// New data (the usual case) is copied straight into `market_bars`, at COPY speed. Only if some
    /// bars are already there (a unique violation) does the file go through a staging table and one
    /// INSERT … ON CONFLICT merge, which is several times slower.
    public func ingest(csv: [UInt8], keepExisting: Bool = false) async throws -> BarIngestSummary {
        let lines = try Self.validatedLines(csv)
        do {
            return try await connection.transaction { connection in
                try await connection.query("SET LOCAL TimeZone = 'UTC'")
                try await connection.query("SAVEPOINT direct_copy")
                do {
                    return BarIngestSummary(added: try await copy(csv, lines.ranges, into: "market_bars", connection))
                } catch let error as PostgresError where error.sqlstate == "23505" {
                    try await connection.query("ROLLBACK TO SAVEPOINT direct_copy")
                }
                return try await merge(csv, lines.ranges, keepExisting: keepExisting, connection)
            }
        } catch let error as PostgresError {
            guard let sent = error.copyLine, lines.fileLines.indices.contains(sent - 1),
                  case let .server(_, message, detail, _, _) = error else { throw error }
            throw BarIngestError(line: lines.fileLines[sent - 1], problem: message + (detail.map { "; \($0)" } ?? ""))
        }
    }

    @discardableResult
    private func copy(_ csv: [UInt8], _ lines: [Range<Int>], into table: String, _ connection: PostgresConnection) async throws -> Int {
        try await connection.copyIn("COPY \(table) (\(Self.columns)) FROM STDIN") { writer in
            for line in lines { writer.rawRow(csv[line], separator: UInt8(ascii: ",")) }
        }
    }

    private func merge(_ csv: [UInt8], _ lines: [Range<Int>], keepExisting: Bool, _ connection: PostgresConnection) async throws -> BarIngestSummary {
        try await connection.query("""
            CREATE TEMP TABLE market_bars_staging (LIKE market_bars, line bigint GENERATED ALWAYS AS IDENTITY) ON COMMIT DROP
            """)
        try await copy(csv, lines, into: "market_bars_staging", connection)
        let values = "open, high, low, close, volume"
        let onConflict = keepExisting ? "DO NOTHING" : """
            DO UPDATE SET (\(values)) = (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume)
            WHERE (market_bars.open, market_bars.high, market_bars.low, market_bars.close, market_bars.volume)
                IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume)
            """
        let row = try await connection.query("""
            WITH merged AS (
                INSERT INTO market_bars (\(Self.columns))
                SELECT DISTINCT ON (symbol, timeframe, ts) \(Self.columns) FROM market_bars_staging
                ORDER BY symbol, timeframe, ts, line \(keepExisting ? "ASC" : "DESC")
                ON CONFLICT (symbol, timeframe, ts) \(onConflict)
                RETURNING xmax = 0 AS added
            ), distinct_bars AS (
                SELECT count(*) FROM (SELECT DISTINCT symbol, timeframe, ts FROM market_bars_staging) bars
            )
            SELECT count(*) FILTER (WHERE added), count(*) FILTER (WHERE NOT added), (SELECT * FROM distinct_bars) FROM merged
            """).rows[0]
        let added = try row.int(0), replaced = try row.int(1)
        return BarIngestSummary(added: added, replaced: replaced, unchanged: try row.int(2) - added - replaced)
    }

    /// The data lines: their byte ranges, and each one's line number in the file (blank lines are
    /// skipped, so the two differ).
    struct Lines {
        var ranges: [Range<Int>] = []
        var fileLines: [Int] = []
    }

    /// Fields are plain (no quotes, tabs or backslashes), eight per line, each checked here (see
    /// `problem(ofBar:commas:)`): PostgreSQL would take `now`, `epoch`, `NaN` or `1-01-05` (2005),
    /// and round a ninth decimal away. A leading byte order mark is skipped.
    static func validatedLines(_ csv: [UInt8]) throws -> Lines {
        var lines = Lines()
        lines.ranges.reserveCapacity(csv.count / 60)
        lines.fileLines.reserveCapacity(csv.count / 60)
        var fileLine = 0
        var start = csv.starts(with: FillReader.byteOrderMark) ? FillReader.byteOrderMark.count : 0
        var number = 0
        var commas: [Int] = []
        commas.reserveCapacity(8)
        for index in start...csv.count {
            let byte = index < csv.count ? csv[index] : UInt8(ascii: "\n")
            switch byte {
            case UInt8(ascii: ","):
                commas.append(index)
            case UInt8(ascii: "\""), UInt8(ascii: "\t"), UInt8(ascii: "\\"):
                throw BarIngestError(line: fileLine + 1, problem: "quotes, tabs and backslashes are not expected in bar data")
            case UInt8(ascii: "\n"):
                fileLine += 1
                var end = index
                if end > start, csv[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                if end > start {
                    number += 1
                    if number == 1 {
                        guard csv[start..<end].elementsEqual(header.utf8) else {
                            throw BarIngestError(line: fileLine, problem: "expected the header \(header)")
                        }
                    } else {
                        guard commas.count == 7 else { throw BarIngestError(line: fileLine, problem: "\(commas.count + 1) fields, expected 8") }
                        if let problem = problem(ofBar: csv[start..<end], commas: commas) { throw BarIngestError(line: fileLine, problem: problem) }
                        lines.ranges.append(start..<end)
                        lines.fileLines.append(fileLine)
                    }
                }
                start = index + 1
                commas.removeAll(keepingCapacity: true)
            default:
                continue
            }
        }
        return lines
    }

    static let fieldNames = ["symbol", "timeframe", "ts", "open", "high", "low", "close", "volume"]
    /// volume is numeric(28, 8): below 10^20.
    static let volumeUnitLimit: UInt128 = 10_000_000_000_000_000_000_000_000_000

    /// What is wrong with one bar, or nil: the symbol as for fills; a timeframe of letters, digits
    /// and `_` (`1m`, `ONE_MINUTE`); an ISO-8601 ts (UTC if it has no zone); prices > 0 and a volume
    /// ≥ 0, with at most 8 decimals and within their columns; low ≤ open, close ≤ high.
    static func problem(ofBar line: ArraySlice<UInt8>, commas: [Int]) -> String? {
        func field(_ index: Int) -> ArraySlice<UInt8> {
            line[(index == 0 ? line.startIndex : commas[index - 1] + 1)..<(index == 7 ? line.endIndex : commas[index])]
        }
        func named(_ index: Int) -> String {
            "field '\(fieldNames[index])': \(shown(String(decoding: field(index), as: UTF8.self)))"
        }
        guard isSymbol(field(0)) else { return "\(named(0)) is not an uppercase symbol such as BTC-USD" }
        let timeframe = field(1)
        guard (1...32).contains(timeframe.count), timeframe.allSatisfy({ $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0)
            || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else { return "\(named(1)) is not a timeframe such as 1m or ONE_MINUTE" }
        switch parseISO8601(field(2), zoneRequired: false) {
        case .success: break
        case .failure(.notISO8601): return "\(named(2)) is not an ISO-8601 time such as 2026-01-01T00:00:00Z"
        case .failure(let problem): return "\(named(2)) \(problem.description)"
        }
        struct Refusal: Error { var problem: String }
        func amount(_ index: Int) throws(Refusal) -> Amount {
            let failure: Amount.ParseFailure
            switch Amount.parse(field(index)) {
            case .success(let value) where index == 7:
                guard value >= .zero, value.units.magnitude < volumeUnitLimit else { throw Refusal(problem: "\(named(7)) must be at least 0 and below 10^20") }
                return value
            case .success(let value) where value.fitsLedgerColumn:
                guard value > .zero else { throw Refusal(problem: "\(named(index)) must be greater than 0") }
                return value
            case .success: failure = .outOfRange
            case .failure(let why): failure = why
            }
            throw Refusal(problem: "field '\(fieldNames[index])': " + LedgerValueError(text: String(decoding: field(index), as: UTF8.self), failure: failure).description)
        }
        do {
            let open = try amount(3), high = try amount(4), low = try amount(5), close = try amount(6)
            _ = try amount(7)
            guard low <= open, low <= close, open <= high, close <= high else {
                return "open \(open) and close \(close) must lie between low \(low) and high \(high)"
            }
        } catch {
            return error.problem
        }
        return nil
    }
}
