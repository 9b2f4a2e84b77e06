import ArgumentParser
import Engine

struct IngestBars: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest-bars",
        abstract: "Load OHLCV bars from CSV through COPY; a bar already stored is replaced by the file's.",
        discussion: "Header: \(MarketBarStore.header). A ts without a zone is UTC."
    )

    @OptionGroup var database: DatabaseOptions

    @Flag(name: .customLong("keep-existing"), help: "Keep bars already stored; add only new ones.")
    var keepExisting = false

    @Argument(help: "CSV file, or - for standard input.") var file: String

    func run() async throws {
        let csv = [UInt8](try readInput(file))
        let summary = try await database.withConnection { try await MarketBarStore($0).ingest(csv: csv, keepExisting: keepExisting) }
        print(keepExisting
            ? "ingested \(summary.added) new bars, kept \(summary.unchanged) already stored"
            : "ingested \(summary.added) new bars, replaced \(summary.replaced), \(summary.unchanged) unchanged")
    }
}
