import ArgumentParser
import Basics

@main
struct BotEngine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bot-engine",
        abstract: "The trading ledger on PostgreSQL: migrations, fills, FIFO P&L, snapshots, linkage, reports.",
        version: BotEngineVersion.current,
        subcommands: [Migrate.self, Record.self, Snapshot.self, Metadata.self, Allocate.self, Linkage.self, Report.self, IngestBars.self,
                      BacktestCommand.self, BarsCommand.self, PerformanceCommand.self]
    )

    /// ArgumentParser's own main, after pointing closed standard descriptors at /dev/null: run
    /// with `<&-`, `record -` crashed reading descriptor 0, and the first descriptor bot-engine
    /// opened (libpq's socket) would take a closed one's number.
    static func main() async {
        openClosedStandardDescriptors()
        await main(nil)
    }
}
