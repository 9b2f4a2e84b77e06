import ArgumentParser
import Engine

struct Metadata: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Strategy metadata that the signal service sends ahead of fills, so each fill can be linked to its strategy snapshot.", subcommands: [Cache.self])

    struct Cache: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cache an order's metadata; its fill, when recorded, is linked to the snapshot.")

        @OptionGroup var database: DatabaseOptions

        @Option(name: .customLong("order-id")) var orderID: String
        @Option(name: .customLong("snapshot-id")) var snapshotID: String
        @Option(name: .customLong("buy-score")) var buyScore: String?
        @Option(name: .customLong("sell-score")) var sellScore: String?
        @Option var trigger: String?
        @Option(help: "Seconds the metadata stays usable.") var ttl: Int = 3600

        func run() async throws {
            let metadata = StrategyMetadata(orderID: orderID, snapshotID: snapshotID, buyScore: buyScore.flatMap { Amount($0) },
                                            sellScore: sellScore.flatMap { Amount($0) }, triggerType: trigger)
            try await database.withConnection { try await TradeStore($0).cache(metadata, ttl: .seconds(ttl)) }
        }
    }
}
