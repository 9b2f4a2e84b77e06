import ArgumentParser
import Engine

struct BarsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bars", abstract: "Market bars.", subcommands: [Generate.self, Prune.self])

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

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete bars older than each timeframe's rule, in batches; timeframes without a rule are kept.",
            discussion: """
                Refuses (exit 4, nothing deleted) a rule that would delete bars a stored backtest run used, unless --force;                 runs keep their bars' digest either way. Prints the rows per timeframe and symbol.
                """
        )

        @OptionGroup var database: DatabaseOptions
        @Option(help: "TIMEFRAME=DURATION,… with d, w or y: 1m=365d,1d=5y.") var keep: String
        @Flag(name: .customLong("dry-run"), help: "Count what would be deleted; delete nothing.") var dryRun = false
        @Flag(help: "Prune even bars stored backtest runs used.") var force = false
        @Option(name: .customLong("batch-size"), help: "Rows per delete (1 to 1000000).") var batchSize = 10_000

        func validate() throws {
            do { _ = try BarRetention.parse(keep) } catch { throw ValidationError("--keep: \(error)") }
            guard (1...1_000_000).contains(batchSize) else { throw ValidationError("--batch-size: must be between 1 and 1000000") }
        }

        func run() async throws {
            let rules = try BarRetention.parse(keep)
            let pruned: [PrunedBars]
            do {
                pruned = try await database.withConnection { try await BarPruner($0, batchSize: batchSize).prune(rules, dryRun: dryRun, force: force) }
            } catch let refusal as PruneRefused {
                printError("Error: \(refusal)")
                throw ExitCode(4)
            }
            for line in pruned { print("\(line.timeframe)\t\(line.symbol)\t\(line.rows)") }
            print("\(dryRun ? "would delete" : "deleted") \(pruned.reduce(0) { $0 + $1.rows }) bars")
        }
    }
}
