import ArgumentParser

@main
struct BotEngine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bot-engine",
        abstract: "The trading ledger on PostgreSQL: migrations, fills, FIFO P&L, snapshots, linkage, reports.",
        version: BotEngineVersion.current,
        subcommands: [Migrate.self, Record.self, Snapshot.self, Metadata.self, Allocate.self, Linkage.self, Report.self, IngestBars.self,
                      BacktestCommand.self, BarsCommand.self, PerformanceCommand.self]
    )
}
