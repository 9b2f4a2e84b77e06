import Engine
import Foundation
import SandboxSupport
import Testing

@Suite struct PerformanceTests {
    @Test func metricsAndAlertsOverTheWindow() {
        let thresholds = PerformanceThresholds(winRateBelow: 0.4, profitFactorBelow: 1.5, drawdownBeyondPercent: 9, consecutiveLosses: 3)
        let metric = PerformanceMetric.evaluate(pnls: [10, -5, -5, 20, -10, -2], windowSize: 20, equityBase: 100, thresholds: thresholds,
                                                now: Date(timeIntervalSince1970: 0))
        #expect(metric.totalTrades == 6 && metric.winRate == 2.0 / 6)
        #expect(metric.profitFactor == 30.0 / 22)
        #expect(abs((metric.maxDrawdownPercent ?? 0) + 10) < 1e-12) // 120 → 108
        #expect(metric.consecutiveLosses == 2)
        #expect(metric.alertMessage == "win rate 33.3 % below 40.0 %; profit factor 1.36 below 1.50; max drawdown -10.0 % beyond -9.0 %")

        let quiet = PerformanceMetric.evaluate(pnls: [10, -5, -5, 20, -10, -2], windowSize: 20, equityBase: 100, thresholds: PerformanceThresholds(),
                                               now: Date(timeIntervalSince1970: 0))
        #expect(!quiet.alertTriggered)
        let streak = PerformanceMetric.evaluate(pnls: [1, -1, -1, -1], windowSize: 4, equityBase: nil,
                                                thresholds: PerformanceThresholds(consecutiveLosses: 3), now: Date(timeIntervalSince1970: 0))
        #expect(streak.alertMessage == "3 losses in a row (alert at 3)" && streak.maxDrawdownPercent == nil)
        let empty = PerformanceMetric.evaluate(pnls: [], windowSize: 20, equityBase: 100, thresholds: thresholds, now: Date(timeIntervalSince1970: 0))
        #expect(empty.winRate == nil && empty.profitFactor == nil && empty.maxDrawdownPercent == 0 && !empty.alertTriggered)
        #expect(empty.json == """
            {"timestamp": "1970-01-01T00:00:00Z", "window_size": 20, "win_rate": null, "profit_factor": null, "max_drawdown_pct": 0.0, \
            "consecutive_losses": 0, "total_trades": 0, "alert_triggered": false, "alert_message": null}
            """)
    }

    @Test(.enabled(if: Sandbox.isAvailable, "needs the sandbox's PostgreSQL: scripts/sandbox up"))
    func performanceOfTheLiveLedger() async throws {
        try await TestDatabase.with { db, database in
            let engine = BuiltBinary.botEngine
            let url = ["--database-url", database.url]
            _ = try await engine.run(["migrate"] + url)
            try await db.query("INSERT INTO cash_transactions (occurred_at, kind, amount, currency) VALUES ('2026-01-01', 'deposit', 1000, 'USD')")
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("performance-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("fills.csv").path
            try """
                order_id,symbol,side,order_time,price,size
                b1,AAPL,buy,2026-01-05T14:30:00Z,100,1
                s1,AAPL,sell,2026-01-05T15:30:00Z,110,1
                b2,AAPL,buy,2026-01-06T14:30:00Z,100,1
                s2,AAPL,sell,2026-01-06T15:30:00Z,95,1
                b3,AAPL,buy,2026-01-07T14:30:00Z,100,1
                s3,AAPL,sell,2026-01-07T15:30:00Z,90,1
                """.write(toFile: file, atomically: true, encoding: .utf8)
            _ = try await engine.run(["record", file] + url)
            _ = try await engine.run(["allocate"] + url)

            let result = try await engine.run(["performance", "--window", "2", "--format", "json", "--alert-consecutive-losses", "2"] + url)
            #expect(result.termination == .exited(0), "\(result.stderrText)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdoutText.utf8)) as? [String: Any])
            #expect(object["total_trades"] as? Int == 2 && object["window_size"] as? Int == 2)
            #expect(object["win_rate"] as? Double == 0 && object["profit_factor"] as? Double == 0)
            // Equity before the window: the deposit plus s1's +10; then −5 and −10.
            #expect(abs((object["max_drawdown_pct"] as? Double ?? 0) - (995.0 - 1010) / 1010 * 100) < 1e-9)
            #expect(object["consecutive_losses"] as? Int == 2 && object["alert_triggered"] as? Bool == true)
            #expect(object["alert_message"] as? String == "2 losses in a row (alert at 2)")

            let text = try await engine.run(["performance"] + url)
            #expect(text.stdoutText.contains("win rate            33.3 %") && text.stdoutText.contains("alert               none"))
            let bad = try await engine.run(["performance", "--window", "0"] + url)
            #expect(bad.stderrText.contains("--window must be in 1...100000"))
        }
    }
}
