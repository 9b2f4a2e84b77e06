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

    /// ArgumentParser's own main, after pointing closed standard descriptors at /dev/null: a cron
    /// job run with `<&-` or `>&-` would otherwise read or print through the database connection,
    /// the first descriptor libpq opens.
    static func main() async {
        openClosedStandardDescriptors()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
