import Foundation
import Postgres

/// A fresh database on the sandbox's test PostgreSQL, dropped by `drop()`. Each test gets its own,
/// so tests run in parallel without seeing each other's rows.
public struct TestDatabase: Sendable {
    public let url: String
    let name: String
    let adminURL: String

    /// The server's URL (to the `postgres` database), from sandbox.env.
    public static var serverURL: String {
        get throws { try Sandbox.require().value("SANDBOX_DATABASE_URL") }
    }

    public static func create() async throws -> TestDatabase {
        let adminURL = try serverURL
        let name = "test_" + UUID().uuidString.prefix(12).lowercased().replacing("-", with: "")
        let admin = try await PostgresConnection.connect(adminURL)
        try await admin.execute(script: "CREATE DATABASE \(name)")
        await admin.close()
        let base = adminURL[..<adminURL.lastIndex(of: "/")!]
        return TestDatabase(url: "\(base)/\(name)", name: name, adminURL: adminURL)
    }

    public func connect() async throws -> PostgresConnection {
        try await PostgresConnection.connect(url)
    }

    public func drop() async {
        guard let admin = try? await PostgresConnection.connect(adminURL) else { return }
        try? await admin.execute(script: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        await admin.close()
    }

    /// Runs `body` with a connection to a new database, then drops it.
    public static func with<T: Sendable>(_ body: (PostgresConnection, TestDatabase) async throws -> T) async throws -> T {
        let database = try await create()
        do {
            let value = try await database.connect().closing { try await body($0, database) }
            await database.drop()
            return value
        } catch {
            await database.drop()
            throw error
        }
    }
}
