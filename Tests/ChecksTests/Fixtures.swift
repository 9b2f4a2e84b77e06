import Cron
@testable import Checks

/// Facts as the probes would report them for a healthy host; tests change one thing at a time.
enum Fixture {
    static let settings = CheckSettings(
        appPath: "/opt/bot", reportScript: "weekly_strategy_review.sh",
        queries: ["a.sql", "b.sql"], reportGlob: "logs/weekly_review_*.txt", linkageWindow: "1 day",
        minLinkedTrades: 1, databaseContainer: "db", databaseUser: "bot_user", databaseName: "bot_trader_db")

    static let cronLine = "0 9 * * 1 /opt/bot/weekly_strategy_review.sh >> /opt/bot/logs/weekly_review_cron.log 2>&1"

    static func file(size: Int = 100, kind: String = "regular file", mode: String = "-rwxr-xr-x") -> HostFacts.FileStat {
        HostFacts.FileStat(kind: kind, octalMode: "755", symbolicMode: mode, owner: "bot", size: size, modified: 1_700_000_000)
    }

    static var host: HostFacts {
        HostFacts(crontab: .listed(["MAILTO=ops", cronLine]), script: file(), scriptExecutable: true,
                  queries: ["a.sql": file(), "b.sql": file()], now: 1_700_000_100,
                  cronTime: .success(CronHostTime(zone: .utc, honoursCronTZ: false)))
    }

    static func database(_ overrides: [String: Result<[[String]], DatabaseFacts.Failure>] = [:]) -> DatabaseFacts {
        var results: [String: Result<[[String]], DatabaseFacts.Failure>] = [
            "trade-count": .success([["60"]]),
            "links": .success([["30"]]),
            "linkage-rate": .success([["60", "30"]]),
            "snapshots": .success([["fe59a9ff", "2026-11-20T19:17:36Z", "2.5", "3600"]]),
        ]
        results.merge(overrides) { _, new in new }
        return DatabaseFacts(results: results)
    }

    static let missingTable = DatabaseFacts.Failure(sqlstate: "42P01", message: "relation \"trade_records\" does not exist")
}
