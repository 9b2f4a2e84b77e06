@testable import Engine
import Foundation
import Postgres
import SandboxSupport
import Testing

@Suite struct BarRetentionTests {
    @Test func rulesParseAndBadOnesAreNamed() throws {
        #expect(try BarRetention.parse("1m=365d,1d=5y,5m=2w") == [
            BarRetention(timeframe: "1m", years: 0, days: 365, duration: "365d"),
            BarRetention(timeframe: "1d", years: 5, days: 0, duration: "5y"),
            BarRetention(timeframe: "5m", years: 0, days: 14, duration: "2w"),
        ])
        for bad in ["1m", "1m=", "=5d", "1m=5", "1m=0d", "1m=-1d", "1m=5m", "1m=5d,", "1m=1001y"] {
            #expect(throws: BarRetentionError.malformed(String(bad.split(separator: ",", omittingEmptySubsequences: false).last!))) {
                try BarRetention.parse(bad)
            }
        }
        #expect(throws: BarRetentionError.repeated("1m")) { try BarRetention.parse("1m=1d,1m=2d") }
    }
}

@Suite(.enabled(if: Sandbox.isAvailable, "needs the sandbox's PostgreSQL: scripts/sandbox up"))
struct BarPruneTests {
    /// No bar within an hour of a cutoff, so the reference and the prune (a few seconds apart) agree.
    static let clearOfCutoffs = """
        ts NOT BETWEEN now() - interval '365 days' - interval '1 hour' AND now() - interval '365 days' + interval '1 hour'
        AND ts NOT BETWEEN now() - interval '5 years' - interval '1 hour' AND now() - interval '5 years' + interval '1 hour'
        """
    static let reference = "(timeframe = '1m' AND ts < now() - interval '365 days') OR (timeframe = '1d' AND ts < now() - interval '5 years')"

    /// A stored backtest run on `timeframe` bars from `firstBar`, every other column a placeholder.
    func storeRun(_ db: PostgresConnection, id: Int, timeframe: String, firstBar: String) async throws {
        try await db.query("""
            INSERT INTO backtest_runs SELECT * FROM jsonb_populate_record(NULL::backtest_runs, (
                SELECT jsonb_object_agg(column_name, CASE WHEN data_type = 'text' THEN to_jsonb('x'::text) WHEN data_type = 'jsonb' THEN '{}'::jsonb
                                                          WHEN data_type LIKE 'timestamp%' THEN to_jsonb(now()) ELSE to_jsonb(0) END)
                FROM information_schema.columns WHERE table_name = 'backtest_runs' AND table_schema = current_schema()))
            """)
        try await db.query("UPDATE backtest_runs SET id = $1, symbol = 'AAA', timeframe = $2, first_bar = $3::timestamptz WHERE id = 0",
                           [id, timeframe, firstBar])
    }

    /// Two million bars: 1m and 1d bars of four symbols reaching past their rules, and 5m bars
    /// without a rule. The bars left are exactly those a plain SQL DELETE would leave.
    @Test func pruningTwoMillionBarsLeavesWhatPlainSQLLeaves() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await Migrator().migrate(db)
            try await db.execute(script: """
                INSERT INTO market_bars (symbol, timeframe, ts, open, high, low, close, volume)
                SELECT s, tf, ts, 1, 1, 1, 1, 1 FROM (
                    SELECT s, '1m' AS tf, date_trunc('minute', now()) - i * interval '2 minutes' AS ts
                    FROM unnest(ARRAY['AAA', 'BBB', 'CCC', 'DDD']) s, generate_series(0, 496499) i
                    UNION ALL SELECT s, '1d', date_trunc('day', now()) - i * interval '1 day' FROM unnest(ARRAY['AAA', 'BBB', 'CCC', 'DDD']) s, generate_series(0, 2499) i
                    UNION ALL SELECT s, '5m', date_trunc('day', now()) - i * interval '1 day' FROM unnest(ARRAY['AAA', 'BBB', 'CCC', 'DDD']) s, generate_series(0, 999) i
                ) b WHERE \(Self.clearOfCutoffs);
                ANALYZE market_bars;
                CREATE TABLE expected AS SELECT symbol, timeframe, ts FROM market_bars WHERE NOT (\(Self.reference));
                """)
            let total = try await db.query("SELECT count(*) FROM market_bars").rows[0].int(0)
            #expect(total > 1_990_000)
            let perGroup = try await db.query("""
                SELECT timeframe, symbol, count(*) FROM market_bars WHERE \(Self.reference) GROUP BY 1, 2 ORDER BY 1 DESC, 2
                """).rows.map { PrunedBars(timeframe: try $0.string(0), symbol: try $0.string(1), rows: try $0.int(2)) }
            #expect(perGroup.count == 8)
            // A run on 1m bars newer than the cutoff does not stand in the way.
            try await storeRun(db, id: 1, timeframe: "1m", firstBar: "now")

            let rules = try BarRetention.parse("1m=365d,1d=5y")
            let dryRun = try await BarPruner(db).prune(rules, dryRun: true, force: false)
            #expect(dryRun == perGroup)
            #expect(try await db.query("SELECT count(*) FROM market_bars").rows[0].int(0) == total)

            let pruned = try await BarPruner(db, batchSize: 50_000).prune(rules, dryRun: false, force: false)
            #expect(pruned == perGroup)
            let difference = try await db.query("""
                SELECT (SELECT count(*) FROM (SELECT symbol, timeframe, ts FROM market_bars EXCEPT ALL SELECT * FROM expected) a),
                       (SELECT count(*) FROM (SELECT * FROM expected EXCEPT ALL SELECT symbol, timeframe, ts FROM market_bars) b)
                """).rows[0]
            #expect(try difference.int(0) == 0 && difference.int(1) == 0)
            #expect(try await BarPruner(db).prune(rules, dryRun: false, force: false) == [])
        }
    }

    @Test func aRuleReachingIntoABacktestsBarsIsRefusedUnlessForced() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await Migrator().migrate(db)
            try await db.execute(script: """
                INSERT INTO market_bars (symbol, timeframe, ts, open, high, low, close, volume)
                SELECT 'AAA', '1m', now() - (i + 0.5) * interval '1 day', 1, 1, 1, 1, 1 FROM generate_series(0, 29) i;
                """)
            try await storeRun(db, id: 7, timeframe: "1m", firstBar: "2000-01-01T00:00:00Z")
            let rules = try BarRetention.parse("1m=10d")
            let refusal = await #expect(throws: PruneRefused.self) { try await BarPruner(db).prune(rules, dryRun: false, force: false) }
            #expect(refusal?.conflicts.count == 1)
            #expect(refusal?.conflicts.first?.hasSuffix(": runs 7") == true)
            #expect(try await db.query("SELECT count(*) FROM market_bars").rows[0].int(0) == 30)
            #expect(try await BarPruner(db, batchSize: 7).prune(rules, dryRun: false, force: true) == [PrunedBars(timeframe: "1m", symbol: "AAA", rows: 20)])
            #expect(try await db.query("SELECT count(*) FROM market_bars").rows[0].int(0) == 10)
            #expect(try await db.query("SELECT bars_hash FROM backtest_runs WHERE id = 7").rows[0].string(0) == "x")
        }
    }

    /// Only bars a run used and that are still stored stand in the way: once a forced prune took
    /// them, the weekly prune is not refused for ever after, and other symbols' bars go.
    @Test func aRunWhoseBarsAreGoneOrOfAnotherSymbolDoesNotRefuse() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await Migrator().migrate(db)
            try await db.execute(script: """
                INSERT INTO market_bars (symbol, timeframe, ts, open, high, low, close, volume)
                SELECT s, '1m', now() - (i + 0.5) * interval '1 day', 1, 1, 1, 1, 1 FROM unnest(ARRAY['AAA', 'BBB']) s, generate_series(0, 29) i;
                """)
            try await storeRun(db, id: 7, timeframe: "1m", firstBar: "2000-01-01T00:00:00Z")
            let rules = try BarRetention.parse("1m=10d")
            await #expect(throws: PruneRefused.self) { try await BarPruner(db).prune(rules, dryRun: false, force: false) }
            #expect(try await BarPruner(db).prune(rules, dryRun: false, force: true).reduce(0) { $0 + $1.rows } == 40)
            #expect(try await BarPruner(db).prune(rules, dryRun: false, force: false) == [])
            try await db.query("INSERT INTO market_bars VALUES ('BBB', '1m', now() - interval '20 days', 1, 1, 1, 1, 1)")
            #expect(try await BarPruner(db).prune(rules, dryRun: false, force: false) == [PrunedBars(timeframe: "1m", symbol: "BBB", rows: 1)])
        }
    }
}
