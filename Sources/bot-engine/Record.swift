import ArgumentParser
import Engine
import Foundation

extension FillFormat: ExpressibleByArgument {}

struct Record: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record fills from JSONL or CSV. Every record is validated first; a bad one writes nothing.",
        discussion: "Fields: \(RawFill.fieldNames.joined(separator: ", ")). See the README."
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "jsonl or csv (default: from the file name, else jsonl).")
    var format: FillFormat?

    @Argument(help: "File to read, or - for standard input.")
    var file: String

    func run() async throws {
        let fills = try FillReader.read([UInt8](try readInput(file)), format: format ?? (file.hasSuffix(".csv") ? .csv : .jsonl))
        let summary = try await database.withConnection { try await TradeStore($0).record(fills) }
        print("recorded \(summary.inserted) fills (\(summary.duplicates) already present), linked \(summary.linked)")
    }
}
