import ArgumentParser
import Engine

struct IngestBars: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest-bars",
        abstract: "Load OHLCV bars from CSV through COPY; bars already present are kept.",
        discussion: "Header: \(MarketBarStore.header)"
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "CSV file, or - for standard input.") var file: String

    func run() async throws {
        let csv = [UInt8](try readInput(file))
        let added = try await database.withConnection { try await MarketBarStore($0).ingest(csv: csv) }
        print("ingested \(added) new bars")
    }
}
