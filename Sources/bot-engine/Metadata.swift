import ArgumentParser
import Engine

struct Metadata: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Strategy metadata that the signal service sends ahead of fills.",
                                                    subcommands: [Cache.self])

    struct Cache: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cache an order's metadata; its fill, when recorded (or recorded already), is linked to the snapshot.",
            discussion: "The snapshot must exist (an id printed by `bot-engine snapshot activate`); scores are decimals with at most 8 decimals."
        )

        @OptionGroup var database: DatabaseOptions

        @Option(name: .customLong("order-id")) var orderID: String
        @Option(name: .customLong("snapshot-id")) var snapshotID: String
        @Option(name: .customLong("buy-score")) var buyScore: String?
        @Option(name: .customLong("sell-score")) var sellScore: String?
        @Option var trigger: String?
        @Option(help: "Seconds the metadata stays usable.") var ttl: Int = 3600

        func validate() throws {
            // An order id no fill can have, or metadata expired on arrival, could never be linked.
            if let problem = Fill.orderIDProblem(orderID) { throw ValidationError("--order-id: \(problem)") }
            guard (1...Int(Int32.max)).contains(ttl) else { throw ValidationError("--ttl: must be between 1 and \(Int32.max) seconds") }
            _ = try score("--buy-score", buyScore)
            _ = try score("--sell-score", sellScore)
        }

        func run() async throws {
            let metadata = StrategyMetadata(orderID: orderID, snapshotID: snapshotID, buyScore: try score("--buy-score", buyScore),
                                            sellScore: try score("--sell-score", sellScore), triggerType: trigger)
            if try await database.withConnection({ try await TradeStore($0).cache(metadata, ttl: .seconds(ttl)) }) {
                print("linked \(orderID): its fill was recorded already")
            }
        }
    }
}

/// An optional decimal option for a ledger column; a bad value is refused, never dropped.
func score(_ option: String, _ text: String?) throws -> Amount? {
    guard let text else { return nil }
    do {
        return try Amount.ledgerValue(text)
    } catch {
        throw ValidationError("\(option): \(error)")
    }
}
