import ArgumentParser
import Engine

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the ledger's schema migrations that are missing.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let applied = try await database.withConnection { try await Migrator().migrate($0) }
        print(applied.isEmpty ? "schema up to date" : "applied migrations \(applied.map(String.init).joined(separator: ", "))")
    }
}
