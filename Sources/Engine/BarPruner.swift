import Postgres

/// How long one timeframe's bars are kept: `1m=365d`, `1d=5y`.
public struct BarRetention: Sendable, Equatable {
    public var timeframe: String
    public var years: Int
    public var days: Int
    /// As written, for messages.
    public var duration: String

    /// `TIMEFRAME=N` followed by d (days), w (weeks) or y (years); N from 1 to 1000 years' worth.
    public static func parse(_ text: String) throws(BarRetentionError) -> [BarRetention] {
        var rules: [BarRetention] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, !pair[0].isEmpty, let unit = pair[1].last, let count = Int(pair[1].dropLast()), count > 0 else {
                throw .malformed(String(part))
            }
            let rule: BarRetention
            switch unit {
            case "d": rule = BarRetention(timeframe: pair[0], years: 0, days: count, duration: pair[1])
            case "w": rule = BarRetention(timeframe: pair[0], years: 0, days: count * 7, duration: pair[1])
            case "y": rule = BarRetention(timeframe: pair[0], years: count, days: 0, duration: pair[1])
            default: throw .malformed(String(part))
            }
            guard rule.years <= 1000, rule.days <= 366_000 else { throw .malformed(String(part)) }
            if rules.contains(where: { $0.timeframe == rule.timeframe }) { throw .repeated(rule.timeframe) }
            rules.append(rule)
        }
        return rules
    }
}

public enum BarRetentionError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case repeated(String)

    public var description: String {
        switch self {
        case .malformed(let part):
            return "'\(shown(part, limit: 64))' is not a rule: write TIMEFRAME=DURATION, a duration being a count and d, w or y (1m=365d,1d=5y)"
        case .repeated(let timeframe):
            return "timeframe \(shown(timeframe, limit: 64)) has two rules: give each timeframe one"
        }
    }
}

/// Bars of one symbol and timeframe older than their rule's cutoff.
public struct PrunedBars: Sendable, Equatable {
    public var timeframe: String
    public var symbol: String
    public var rows: Int
}

/// A rule that would delete bars a stored backtest run was computed on.
public struct PruneRefused: Error, Equatable, CustomStringConvertible {
    /// "1m=365d: runs 3, 7", one per rule.
    public var conflicts: [String]

    public var description: String {
        "stored backtest runs used bars these rules would delete; nothing was deleted:\n"
            + conflicts.map { "  - " + $0 }.joined(separator: "\n")
            + "\nKeep more, or pass --force to prune anyway (each run keeps its bars' digest, so a re-run on other bars is told apart)."
    }
}

/// `bars prune`: deletes bars older than each timeframe's rule, one symbol at a time, in batches
/// of `batchSize` rows, each batch its own short transaction on the (symbol, timeframe, ts) index,
/// so ingest of new bars is never held up for more than one batch.
public struct BarPruner: Sendable {
    let connection: PostgresConnection
    public var batchSize: Int

    public init(_ connection: PostgresConnection, batchSize: Int = 10_000) {
        self.connection = connection
        self.batchSize = batchSize
    }

    /// Deletes (or with `dryRun` counts) what `rules` drop; refuses, before deleting anything, a
    /// rule that reaches into a stored backtest run's bars unless `force`. Cutoffs are fixed once,
    /// at the start. Returns the rows per timeframe and symbol, those without any left out.
    public func prune(_ rules: [BarRetention], dryRun: Bool, force: Bool) async throws -> [PrunedBars] {
        var cutoffs: [(rule: BarRetention, cutoff: String)] = []
        for rule in rules {
            let cutoff = try await connection.query("SELECT (now() - make_interval(years => $1::int, days => $2::int))::text",
                                                    [rule.years, rule.days]).rows[0].string(0)
            cutoffs.append((rule, cutoff))
        }
        if !force {
            var conflicts: [String] = []
            for (rule, cutoff) in cutoffs {
                // Only bars of the run's symbol within its span that are still stored: once a forced
                // prune took them, the run no longer refuses every later prune.
                let runs = try await connection.query("""
                    SELECT string_agg(id::text, ', ' ORDER BY id) FROM backtest_runs r
                    WHERE r.timeframe = $1 AND r.first_bar < $2::timestamptz AND EXISTS (
                        SELECT 1 FROM market_bars b WHERE b.symbol = r.symbol AND b.timeframe = r.timeframe
                        AND b.ts >= r.first_bar AND b.ts <= r.last_bar AND b.ts < $2::timestamptz)
                    """, [rule.timeframe, cutoff]).rows[0].optionalString(0)
                if let runs { conflicts.append("\(rule.timeframe)=\(rule.duration) (bars before \(cutoff)): runs \(runs)") }
            }
            if !conflicts.isEmpty { throw PruneRefused(conflicts: conflicts) }
        }
        var pruned: [PrunedBars] = []
        for (rule, cutoff) in cutoffs {
            for symbol in try await symbols() {
                let rows = dryRun ? try await count(symbol, rule.timeframe, cutoff) : try await delete(symbol, rule.timeframe, cutoff)
                if rows > 0 { pruned.append(PrunedBars(timeframe: rule.timeframe, symbol: symbol, rows: rows)) }
            }
        }
        return pruned
    }

    /// The distinct symbols, read off the index one jump at a time rather than by a full scan.
    func symbols() async throws -> [String] {
        try await connection.query("""
            WITH RECURSIVE s(symbol) AS (
                (SELECT symbol FROM market_bars ORDER BY symbol LIMIT 1)
                UNION ALL
                SELECT (SELECT m.symbol FROM market_bars m WHERE m.symbol > s.symbol ORDER BY m.symbol LIMIT 1) FROM s WHERE s.symbol IS NOT NULL
            )
            SELECT symbol FROM s WHERE symbol IS NOT NULL
            """).rows.map { try $0.string(0) }
    }

    func count(_ symbol: String, _ timeframe: String, _ cutoff: String) async throws -> Int {
        try await connection.query("SELECT count(*) FROM market_bars WHERE symbol = $1 AND timeframe = $2 AND ts < $3::timestamptz",
                                   [symbol, timeframe, cutoff]).rows[0].int(0)
    }

    func delete(_ symbol: String, _ timeframe: String, _ cutoff: String) async throws -> Int {
        var total = 0
        while true {
            // An array of row addresses makes a TID scan; `ctid IN (…)` would scan the whole table.
            let deleted = try await connection.query("""
                DELETE FROM market_bars WHERE ctid = ANY (ARRAY(
                    SELECT ctid FROM market_bars WHERE symbol = $1 AND timeframe = $2 AND ts < $3::timestamptz ORDER BY ts LIMIT $4
                ))
                """, [symbol, timeframe, cutoff, batchSize]).affectedRows
            total += deleted
            if deleted < batchSize { return total }
        }
    }
}
