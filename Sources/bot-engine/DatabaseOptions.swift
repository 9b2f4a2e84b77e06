import ArgumentParser
import Foundation
import Postgres

struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"),
            help: "postgres://user@host:port/db (default: $BOT_DATABASE_URL, else $DATABASE_URL, else the PG* variables).")
    var databaseURL: String?

    /// The flag, else BOT_DATABASE_URL, else DATABASE_URL (what the bot's own services read); an
    /// empty variable counts as unset. nil leaves it to libpq's PG* variables.
    func resolvedURL(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        databaseURL ?? ["BOT_DATABASE_URL", "DATABASE_URL"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
    }

    /// Connects, runs `body`, closes.
    func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await PostgresConnection.connect(resolvedURL()).closing(after: body)
    }
}

/// Reads a file argument, `-` meaning standard input.
func readInput(_ path: String) throws -> Data {
    if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("cannot read \(path)")
    }
    return data
}

/// A line on standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
