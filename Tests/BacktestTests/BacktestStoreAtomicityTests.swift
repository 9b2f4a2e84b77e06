import Engine
import Foundation
import Testing

extension BacktestStoreTests {
    /// A save that fails at its last step (the equity COPY, refused here by a constraint the
    /// throwaway database is given) leaves no run row and no trade rows behind.
    @Test func aSaveFailingHalfWayStoresNothing() async throws {
        try await withBars { db, _ in
            let start = Date(timeIntervalSince1970: 1_757_462_400), end = Date(timeIntervalSince1970: 1_762_560_000)
            let bars = try await BarLoader(db).load(symbol: "SPY", timeframe: "5m", start: start, end: end)
            let result = try Backtest.run(BacktestRequest(strategy: .smaCross(fast: 10, slow: 50)), on: bars)
            #expect(!result.trades.isEmpty, "the run must have trade rows for the check below to mean anything")
            try await db.query("ALTER TABLE backtest_equity ADD CONSTRAINT refuse_all CHECK (false) NOT VALID")
            await #expect(throws: (any Error).self) {
                try await BacktestStore(db).save(result, rangeStart: start, rangeEnd: end)
            }
            let stored = try await db.query("SELECT (SELECT count(*) FROM backtest_runs) + (SELECT count(*) FROM backtest_trades) + (SELECT count(*) FROM backtest_equity)")
            #expect(try stored.rows[0].int(0) == 0)
        }
    }
}
