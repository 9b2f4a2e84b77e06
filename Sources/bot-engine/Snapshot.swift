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
            _ = try score("--score-buy-target", scoreBuyTarget)
        }

        func run() async throws {
            let target = try score("--score-buy-target", scoreBuyTarget)
            let id = try await database.withConnection {
                try await SnapshotStore($0).activate(config: config, scoreBuyTarget: target)
            }
            print(id)
        }
    }
}
