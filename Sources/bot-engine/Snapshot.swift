import ArgumentParser
import Engine

struct Snapshot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Strategy snapshots.", subcommands: [Activate.self])

    struct Activate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Activate a new snapshot, closing the active one in the same transaction.")

        @OptionGroup var database: DatabaseOptions

        @Option(help: "The strategy configuration as JSON.")
        var config: String

        @Option(name: .customLong("score-buy-target"), help: "The buy score target of this configuration.")
        var scoreBuyTarget: String?

        func validate() throws {
            if let scoreBuyTarget, Amount(scoreBuyTarget) == nil { throw ValidationError("--score-buy-target must be a decimal number") }
        }

        func run() async throws {
            let id = try await database.withConnection {
                try await SnapshotStore($0).activate(config: config, scoreBuyTarget: scoreBuyTarget.flatMap { Amount($0) })
            }
            print(id)
        }
    }
}
