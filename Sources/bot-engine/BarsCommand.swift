import ArgumentParser
import Engine

struct BarsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bars", abstract: "Market bars.", subcommands: [Generate.self])

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load reproducible random-walk bars (daily trend, 9:30-16:00 New York time, weekdays) through the bar ingest.",
            discussion: "The same options and seed always give the same bars; loading them again changes nothing."
        )

        @OptionGroup var database: DatabaseOptions
        @Option(help: "Comma-separated symbols.") var symbols: String = "SPY,TSLA,AAPL"
        @Option(help: "Calendar days, from --start.") var days: Int = 60
        @Option(help: "First day, YYYY-MM-DD.") var start: String = "2025-09-10"
        @Option(help: "1m, 5m, 15m, 30m or 1h.") var timeframe: String = "5m"
        @Option(help: "Random seed.") var seed: UInt64 = 1
        @Flag(name: .customLong("csv"), help: "Print the CSV instead of loading it.") var printCSV = false

        func run() async throws {
            let generator = BarGenerator(symbols: symbols.split(separator: ",").map(String.init), startDay: start, days: days,
                                         timeframe: timeframe, seed: seed)
            let series = try generator.generate()
            let csv = BarGenerator.csv(series)
            if printCSV {
                print(String(decoding: csv, as: UTF8.self), terminator: "")
                return
            }
            let summary = try await database.withConnection { try await MarketBarStore($0).ingest(csv: csv) }
            let total = series.reduce(0) { $0 + $1.count }
            print("generated \(total) bars (\(series.map { "\($0.symbol) \($0.count)" }.joined(separator: ", "))): "
                  + "\(summary.added) new, \(summary.replaced) replaced, \(summary.unchanged) unchanged")
        }
    }
}
