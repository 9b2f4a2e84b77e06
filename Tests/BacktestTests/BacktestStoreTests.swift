import Engine
import Foundation
import Postgres
import Remote
import SandboxSupport
import Testing

/// Runs stored in the sandbox's PostgreSQL, through the library and through `bot-engine` as a user runs it.
@Suite(.enabled(if: Sandbox.isAvailable, "needs the sandbox's PostgreSQL: scripts/sandbox up"))
struct BacktestStoreTests {
    /// A migrated database holding generated SPY, TSLA and AAPL 5-minute bars (2025-09-10, 60 days).
    func withBars<T: Sendable>(_ body: (PostgresConnection, TestDatabase) async throws -> T) async throws -> T {
        try await TestDatabase.with { db, database in
            try await Migrator().migrate(db)
            let series = try BarGenerator(symbols: ["SPY", "TSLA", "AAPL"], days: 60, seed: 42).generate()
            #expect(try await MarketBarStore(db).ingest(csv: BarGenerator.csv(series)).added == 10_062)
            return try await body(db, database)
        }
    }

    static let runArguments = ["backtest", "run", "sma-cross", "--param", "fast=10", "--param", "slow=50", "--symbol", "SPY",
                               "--start", "2025-09-10", "--end", "2025-11-07", "--commission", "0.001"]

    @Test func sameInputsTwiceStoreIdenticalRowsAndDigest() async throws {
        try await withBars { db, database in
            for _ in 0..<2 {
                let run = try await BuiltBinary.botEngine.run(Self.runArguments + ["--database-url", database.url])
                #expect(run.termination == .exited(0), "\(run.stderrText)")
            }
            let runs = try await db.query("""
                SELECT to_jsonb(r) - 'id' - 'created_at' FROM backtest_runs r ORDER BY id
                """).rows.map { try $0.string(0) }
            #expect(runs.count == 2 && runs[0] == runs[1])
            #expect(runs[0].contains("\"bars_hash\": \"") && runs[0].contains("\"bar_count\": 3354"))
            for table in ["backtest_trades", "backtest_equity"] {
                let perRun = try await db.query("""
                    SELECT run_id, md5(string_agg((to_jsonb(t) - 'run_id')::text, ';' ORDER BY to_jsonb(t)::text)), count(*)
                    FROM \(table) t GROUP BY run_id ORDER BY run_id
                    """).rows
                #expect(perRun.count == 2)
                #expect(try perRun[0].string(1) == perRun[1].string(1), "\(table) differs between identical runs")
                #expect(try perRun[0].int(2) > 0)
            }

            // What is stored is what was computed: trades, metrics and every equity value, exactly.
            let bars = try await BarLoader(db).load(symbol: "SPY", timeframe: "5m", start: Date(timeIntervalSince1970: 1_757_462_400),
                                                    end: Date(timeIntervalSince1970: 1_762_560_000))
            var settings = SimulationSettings()
            settings.commission = Commission(rate: 0.001)
            let computed = try Backtest.run(BacktestRequest(strategy: .smaCross(fast: 10, slow: 50), settings: settings), on: bars)
            let stored = try await BacktestStore(db).load(1, trades: true, equity: true)
            #expect(stored.digest == computed.digest)
            #expect(stored.trades.map(\.pnl) == computed.trades.map(\.pnl) && stored.trades.map(\.entryBar) == computed.trades.map(\.entryBar))
            #expect(stored.equity == computed.simulation.equity && stored.equityTimes == bars.times)
            for field in BacktestMetrics.fields {
                let a = stored.metrics[keyPath: field.keyPath], b = computed.metrics[keyPath: field.keyPath]
                #expect(a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN), "\(field.name)")
            }
        }
    }

    @Test func barsArriveExactlyThroughBinaryCopyAndTheParallelReadMatches() async throws {
        try await TestDatabase.with { db, database in
            try await Migrator().migrate(db)
            // Edge values: the smallest unit, every decimal place, a large price, a huge volume.
            let csv = """
                symbol,timeframe,ts,open,high,low,close,volume
                X,1m,2025-01-02T00:00:00Z,0.00000001,123456789.12345678,0.00000001,10000,0
                X,1m,2025-01-02T00:01:00Z,90000000000.12345678,92233720368.54775807,1.00000001,20000.5,100000000000.25
                X,1m,2025-01-02T00:02:00Z,7,8,6,7.5,1.5
                """
            #expect(try await MarketBarStore(db).ingest(csv: Array(csv.utf8)).added == 3)
            let range = (Date(timeIntervalSince1970: 1_735_776_000), Date(timeIntervalSince1970: 1_735_862_400))
            let bars = try await BarLoader(db).load(symbol: "X", timeframe: "1m", start: range.0, end: range.1)
            #expect(bars.times == [1_735_776_000, 1_735_776_060, 1_735_776_120])
            #expect(bars.closeUnits == [1_000_000_000_000, 2_000_050_000_000, 750_000_000])
            #expect(bars.open == [0.00000001, 90_000_000_000.12345678, 7] && bars.high == [123_456_789.12345678, 92_233_720_368.54775807, 8])
            #expect(bars.volume == [0, 100_000_000_000.25, 1.5])
            #expect(bars.digest.count == 3 && bars.digest.hash.count == 32)
            // Beyond what 8-decimal 64-bit units hold: refused with the limit named.
            _ = try await MarketBarStore(db).ingest(csv: Array("symbol,timeframe,ts,open,high,low,close,volume\nY,1m,2025-01-02T00:00:00Z,1,99999999999.5,1,1,1\n".utf8))
            await #expect { try await BarLoader(db).load(symbol: "Y", timeframe: "1m", start: range.0, end: range.1) } throws: {
                "\($0)".contains("92233720368")
            }

            let generated = try BarGenerator(symbols: ["SPY"], days: 30, seed: 3).generate()
            _ = try await MarketBarStore(db).ingest(csv: BarGenerator.csv(generated))
            let wide = (Date(timeIntervalSince1970: 1_700_000_000), Date(timeIntervalSince1970: 1_800_000_000))
            let single = try await BarLoader(db).load(symbol: "SPY", timeframe: "5m", start: wide.0, end: wide.1)
            let split = try await database.connect().closing { second in
                try await BarLoader(db).load(symbol: "SPY", timeframe: "5m", start: wide.0, end: wide.1, second: second)
            }
            #expect(single == generated[0] && split == single)
            #expect(try await BarLoader(db).estimatedCount(symbol: "SPY", timeframe: "5m", start: wide.0, end: wide.1) >= single.count)
        }
    }

    @Test func badInputIsExplainedAndNothingIsStored() async throws {
        try await withBars { db, database in
            let base = ["backtest", "run", "--symbol", "SPY", "--database-url", database.url]
            let cases: [([String], String)] = [
                (["macd", "--start", "2025-09-10", "--end", "2025-11-07"], "unknown strategy 'macd'; built in: sma-cross, rsi"),
                (["sma-cross", "--param", "speed=3", "--start", "2025-09-10", "--end", "2025-11-07"], "sma-cross: parameter 'speed': unknown parameter"),
                (["rsi", "--param", "low=80", "--start", "2025-09-10", "--end", "2025-11-07"], "rsi: parameter 'low': must be less than high"),
                (["sma-cross", "--start", "2025-12-01", "--end", "2025-12-31"], "no 5m bars for SPY between"),
                (["sma-cross", "--start", "2025-09-10", "--end", "2025-11-07", "--timeframe", "1h"], "no 1h bars for SPY in market_bars"),
                (["sma-cross", "--start", "2025-11-07", "--end", "2025-09-10"], "--start 2025-11-07 is after --end 2025-09-10"),
                (["sma-cross", "--start", "2025-09-10T13:30:00Z", "--end", "2025-09-10T15:00:00Z"], "18 bars in the range, but sma-cross needs at least 51"),
                (["sma-cross", "--start", "2025-09-10", "--end", "2025-11-07", "--size-fraction", "1.5"], "--size-fraction: must be in (0, 1]"),
                (["sma-cross", "--start", "yesterday", "--end", "2025-11-07"], "--start: 'yesterday' is not a date"),
            ]
            for (arguments, message) in cases {
                let result = try await BuiltBinary.botEngine.run(base + arguments)
                #expect(result.termination != .exited(0), "\(arguments)")
                #expect(result.stderrText.contains(message), "\(arguments): \(result.stderrText)")
            }
            let missingSymbol = try await BuiltBinary.botEngine.run(["backtest", "run", "rsi", "--symbol", "QQQ", "--start", "2025-09-10",
                                                                     "--end", "2025-11-07", "--database-url", database.url])
            #expect(missingSymbol.stderrText.contains("no 5m bars for QQQ in market_bars"))
            let stored = try await db.query("SELECT (SELECT count(*) FROM backtest_runs) + (SELECT count(*) FROM backtest_trades) + (SELECT count(*) FROM backtest_equity)")
            #expect(try stored.rows[0].int(0) == 0)
        }
    }

    @Test func listShowCompareAndPlotReadTheStoredRows() async throws {
        try await withBars { db, database in
            let url = ["--database-url", database.url]
            let engine = BuiltBinary.botEngine
            _ = try await engine.run(Self.runArguments + url)
            _ = try await engine.run(["backtest", "run", "rsi", "--symbol", "TSLA", "--start", "2025-09-10", "--end", "2025-11-07",
                                      "--commission", "0.001", "--stop-loss", "0.01"] + url)

            let list = try await engine.run(["backtest", "list", "--limit", "1"] + url)
            #expect(list.stdoutText.split(separator: "\n").count == 2)
            #expect(list.stdoutText.contains("rsi") && !list.stdoutText.contains("sma-cross"))
            let filtered = try await engine.run(["backtest", "list", "--strategy", "sma-cross"] + url)
            #expect(filtered.stdoutText.contains("sma-cross") && !filtered.stdoutText.contains("\nrsi"))

            let shown = try await engine.run(["backtest", "show", "2", "--trades", "--equity", "--format", "json"] + url)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdoutText.utf8)) as? [String: Any])
            let trades = try #require(object["trades"] as? [[String: Any]])
            let equity = try #require(object["equity"] as? [[String: Any]])
            #expect(trades.count > 0 && equity.count == 3354)
            #expect(trades.contains { $0["exit_reason"] as? String == "stop-loss" })
            #expect((object["metrics"] as? [String: Any])?["trades"] as? Double == Double(trades.count))

            let text = try await engine.run(["backtest", "show", "1", "--trades"] + url)
            #expect(text.stdoutText.contains("strategy      sma-cross {\"fast\": 10, \"slow\": 50}"))
            #expect(text.stdoutText.contains("Sharpe Ratio") && text.stdoutText.contains("Trades\n#"))

            // compare reads stored rows only: it still works after the bars are gone.
            try await db.query("DELETE FROM market_bars")
            let compared = try await engine.run(["backtest", "compare", "1", "2"] + url)
            #expect(compared.termination == .exited(0))
            let lines = compared.stdoutText.split(separator: "\n")
            #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true) == ["run", "1", "2"])
            #expect(lines.contains { $0.hasPrefix("Sharpe Ratio") } && lines.count == 7 + BacktestMetrics.fields.count)
            let missing = try await engine.run(["backtest", "compare", "1", "99"] + url)
            #expect(missing.stderrText.contains("no backtest run 99"))

            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plot-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("run.svg").path
            let plotted = try await engine.run(["backtest", "show", "2", "--plot", file] + url)
            #expect(plotted.termination == .exited(0), "\(plotted.stderrText)")
            let svg = try String(contentsOfFile: file, encoding: .utf8)
            #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
            #expect(svg.components(separatedBy: "<title>buy ").count - 1 == trades.count)
            let xmllint = try await LocalHost().run(shellCommand(["xmllint", "--noout", file]))
            #expect(xmllint.termination == .exited(0), "\(xmllint.stderrText)")
        }
    }

    @Test func barsGenerateIsReproducibleAndKeepsMarketHours() async throws {
        try await TestDatabase.with { db, database in
            let engine = BuiltBinary.botEngine
            let url = ["--database-url", database.url]
            _ = try await engine.run(["migrate"] + url)
            let arguments = ["bars", "generate", "--symbols", "SPY,BTC-USD", "--days", "60", "--seed", "7"]
            let first = try await engine.run(arguments + ["--csv"])
            #expect(try await engine.run(arguments + ["--csv"]).stdoutText == first.stdoutText)
            #expect(try await engine.run(["bars", "generate", "--symbols", "SPY,BTC-USD", "--days", "60", "--seed", "8", "--csv"]).stdoutText != first.stdoutText)
            let loaded = try await engine.run(arguments + url)
            #expect(loaded.stdoutText == "generated 6708 bars (SPY 3354, BTC-USD 3354): 6708 new, 0 replaced, 0 unchanged\n", "\(loaded.stderrText)")
            #expect(try await engine.run(arguments + url).stdoutText.hasSuffix(": 0 new, 0 replaced, 6708 unchanged\n"))

            // 78 five-minute bars a weekday, 9:30-15:55 in New York, before and after the switch from EDT to EST (2025-11-02).
            let days = try await db.query("""
                SELECT (ts AT TIME ZONE 'America/New_York')::date, count(*), min((ts AT TIME ZONE 'America/New_York')::time)::text,
                       max((ts AT TIME ZONE 'America/New_York')::time)::text, bool_or(extract(isodow FROM ts AT TIME ZONE 'America/New_York') > 5)
                FROM market_bars WHERE symbol = 'SPY' GROUP BY 1 ORDER BY 1
                """).rows
            #expect(days.count == 43)
            for day in days {
                #expect(try day.int(1) == 78 && day.string(2) == "09:30:00" && day.string(3) == "15:55:00" && day.bool(4) == false)
            }
            let invalid = try await engine.run(["bars", "generate", "--symbols", "spy", "--csv"])
            #expect(invalid.stderrText.contains("'spy' is not an uppercase symbol"))
        }
    }
}
