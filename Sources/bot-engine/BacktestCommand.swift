import ArgumentParser
import Engine
import Foundation

struct BacktestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Backtests over stored bars: run one, list, show and compare stored runs.",
        subcommands: [Run.self, List.self, Show.self, Compare.self]
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Simulate a strategy over stored bars, store the run (trades, equity, metrics) and print its id and metrics.",
            discussion: """
                Strategies: sma-cross (fast=10, slow=50), rsi (period=14, low=30, high=70). Orders decided at a bar's close \
                fill at the next bar's open (--fill close: at that close). Metrics follow backtesting.py 0.6.6; see the README.
                """
        )

        @OptionGroup var database: DatabaseOptions

        @Argument(help: "sma-cross or rsi.") var strategy: String
        @Option(name: .customLong("param"), help: "A strategy parameter k=v (repeatable), e.g. --param fast=10.") var parameters: [String] = []
        @Option(help: "Symbol, e.g. SPY or BTC-USD.") var symbol: String
        @Option(help: "Bar timeframe as stored, e.g. 5m.") var timeframe: String = "5m"
        @Option(help: "First day (YYYY-MM-DD, UTC) or time with a zone.") var start: String
        @Option(help: "Last day, included (YYYY-MM-DD, UTC), or a time with a zone, excluded.") var end: String
        @Option(help: "Starting cash.") var cash: Double = 10_000
        @Option(help: "Commission rate per fill (0.001 = 0.1 %).") var commission: Double = 0
        @Option(name: .customLong("commission-fixed"), help: "Fixed commission per fill.") var commissionFixed: Double = 0
        @Option(name: .customLong("commission-min"), help: "Minimum commission per fill.") var commissionMinimum: Double = 0
        @Option(name: .customLong("slippage-bps"), help: "Slippage in basis points: entries pay more, market and stop exits get less.") var slippage: Double = 0
        @Option(name: .customLong("size-fraction"), help: "Size entries as this fraction of equity, in whole units (default 1: all of it).") var sizeFraction: Double?
        @Option(name: .customLong("size-quantity"), help: "Size entries as this many whole units.") var sizeQuantity: Double?
        @Option(name: .customLong("size-notional"), help: "Size entries as whole units worth at most this much.") var sizeNotional: Double?
        @Option(help: "Where orders fill: open (the next bar's open) or close (the deciding bar's close).") var fill: FillTiming = .open
        @Option(name: .customLong("stop-loss"), help: "Exit when the price falls this fraction below the entry (0.02 = 2 %).") var stopLoss: Double?
        @Option(name: .customLong("take-profit"), help: "Exit when the price rises this fraction above the entry.") var takeProfit: Double?
        @Option(name: .customLong("periods-per-year"), help: "Daily returns per year (default 252; 365 for crypto symbols and weekend data).") var periodsPerYear: Int?
        @Option(name: .customLong("risk-free"), help: "Annual risk-free rate for Sharpe and Sortino (0.04 = 4 %).") var riskFree: Double = 0
        @Option var format: Format = .text

        func validate() throws {
            if [sizeFraction, sizeQuantity, sizeNotional].compactMap({ $0 }).count > 1 {
                throw ValidationError("give at most one of --size-fraction, --size-quantity, --size-notional")
            }
        }

        /// Everything is checked before the database is touched: a bad input stores nothing.
        func request() throws -> BacktestRequest {
            var settings = SimulationSettings()
            settings.cash = cash
            settings.commission = Commission(rate: commission, fixed: commissionFixed, minimum: commissionMinimum)
            settings.slippageBasisPoints = slippage
            settings.sizing = sizeQuantity.map { .quantity($0) } ?? sizeNotional.map { .notional($0) } ?? .fraction(sizeFraction ?? 1)
            settings.fill = fill
            settings.stopLoss = stopLoss
            settings.takeProfit = takeProfit
            let request = BacktestRequest(strategy: try StrategySpec.parse(name: strategy, parameters: parameters), settings: settings,
                                          periodsPerYear: periodsPerYear, riskFreeRate: riskFree)
            try request.validate()
            return request
        }

        func run() async throws {
            let request = try request()
            let range = try TimeRange.parse(start: start, end: end)
            let run = try await database.withConnection { connection in
                let loader = BarLoader(connection)
                let large = try await loader.estimatedCount(symbol: symbol, timeframe: timeframe, start: range.start, end: range.end) >= BarLoader.parallelThreshold
                let bars = large
                    ? try await database.withConnection { try await loader.load(symbol: symbol, timeframe: timeframe, start: range.start, end: range.end, second: $0) }
                    : try await loader.load(symbol: symbol, timeframe: timeframe, start: range.start, end: range.end)
                let result = try Backtest.run(request, on: bars)
                let id = try await BacktestStore(connection).save(result, rangeStart: range.start, rangeEnd: range.end)
                return try await BacktestStore(connection).load(id)
            }
            print(format == .json ? BacktestReport.json(run, trades: false, equity: false) : BacktestReport.show(run, trades: false, equity: false),
                  terminator: "")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stored runs, newest first.")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "At most this many runs.") var limit: Int = 20
        @Option(help: "Only runs of this strategy.") var strategy: String?

        func validate() throws {
            guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be in 1...100000") }
        }

        func run() async throws {
            let runs = try await database.withConnection { try await BacktestStore($0).list(limit: limit, strategy: strategy) }
            print(BacktestReport.list(runs), terminator: "")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One stored run: what ran, on which bars, its metrics; optionally trades, equity, a plot.")

        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The run id.") var id: Int64
        @Flag(help: "List the trades.") var trades = false
        @Flag(help: "List the equity curve (time,equity).") var equity = false
        @Option var format: Format = .text
        @Option(help: "Write the equity curve as SVG to this file (drawdown shaded, trades marked).") var plot: String?

        func run() async throws {
            let run = try await database.withConnection {
                try await BacktestStore($0).load(id, trades: trades || plot != nil, equity: equity || plot != nil)
            }
            if let plot {
                try EquityPlot.svg(run).write(toFile: plot, atomically: true, encoding: .utf8)
            }
            print(format == .json ? BacktestReport.json(run, trades: trades, equity: equity) : BacktestReport.show(run, trades: trades, equity: equity),
                  terminator: "")
        }
    }

    struct Compare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stored runs side by side, read from the stored rows only.")

        @OptionGroup var database: DatabaseOptions
        @Argument(help: "Two or more run ids.") var ids: [Int64]
        @Option var format: Format = .text

        func validate() throws {
            guard ids.count >= 2 else { throw ValidationError("give at least two run ids") }
        }

        func run() async throws {
            let runs = try await database.withConnection { connection in
                var runs: [StoredRun] = []
                for id in ids { runs.append(try await BacktestStore(connection).load(id)) }
                return runs
            }
            print(format == .json ? BacktestReport.compareJSON(runs) : BacktestReport.compare(runs), terminator: "")
        }
    }
}

extension FillTiming: ExpressibleByArgument {}
