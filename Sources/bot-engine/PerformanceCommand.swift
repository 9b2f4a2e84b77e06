import ArgumentParser
import Engine
import Foundation

struct PerformanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "performance",
        abstract: "Rolling metrics of the live ledger over its last trades: win rate, profit factor, max drawdown %, consecutive losses.",
        discussion: """
            A trade is one executed sell, its P&L that of its FIFO v2 allocations (run `bot-engine allocate` first). \
            Alerts fire only for the thresholds you give; there are no defaults.
            """
    )

    @OptionGroup var database: DatabaseOptions
    @Option(help: "The number of most recent trades.") var window: Int = 20
    @Option(help: "Equity before the window (default: net deposits in cash_transactions plus earlier realised P&L).") var capital: Double?
    @Option(name: .customLong("alert-win-rate-below"), help: "Alert when the win rate (0-1) is below this.") var winRateBelow: Double?
    @Option(name: .customLong("alert-profit-factor-below"), help: "Alert when the profit factor is below this.") var profitFactorBelow: Double?
    @Option(name: .customLong("alert-drawdown-beyond"), help: "Alert when the max drawdown is deeper than this many percent (5 = -5 %).") var drawdownBeyond: Double?
    @Option(name: .customLong("alert-consecutive-losses"), help: "Alert at this many losses in a row.") var consecutiveLosses: Int?
    @Option var format: BacktestCommand.Format = .text

    func validate() throws {
        guard (1...100_000).contains(window) else { throw ValidationError("--window must be in 1...100000") }
        if let capital, !(capital > 0 && capital.isFinite) { throw ValidationError("--capital must be greater than 0") }
        if let winRateBelow, !(0...1).contains(winRateBelow) { throw ValidationError("--alert-win-rate-below must be in 0...1 (0.4 = 40 %)") }
        if let profitFactorBelow, !(profitFactorBelow >= 0 && profitFactorBelow.isFinite) { throw ValidationError("--alert-profit-factor-below must be 0 or more") }
        if let drawdownBeyond, !(0...100).contains(drawdownBeyond) { throw ValidationError("--alert-drawdown-beyond must be a percentage in 0...100") }
        if let consecutiveLosses, consecutiveLosses < 1 { throw ValidationError("--alert-consecutive-losses must be at least 1") }
    }

    func run() async throws {
        let thresholds = PerformanceThresholds(winRateBelow: winRateBelow, profitFactorBelow: profitFactorBelow,
                                               drawdownBeyondPercent: drawdownBeyond, consecutiveLosses: consecutiveLosses)
        let metric = try await database.withConnection {
            try await PerformanceMetric.compute($0, window: window, capital: capital, thresholds: thresholds, now: Date())
        }
        print(format == .json ? metric.json : metric.text, terminator: format == .json ? "\n" : "")
    }
}
