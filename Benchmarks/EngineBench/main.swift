// FIFO benchmark: allocation of 1,000,000 fills in memory (target < 1 s), and writing them via
// COPY. (bench/engine.py measures ingest-bars and record as a user runs them, next to psql.)
// Usage: EngineBench DATABASE_URL   (a server where it may create and drop a database)
import Engine
import Foundation
import Postgres

let clock = ContinuousClock()
func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
func measure<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
    let start = clock.now
    let value = try await body()
    return (value, seconds(clock.now - start))
}

guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: EngineBench DATABASE_URL\n".utf8))
    exit(2)
}
let adminURL = CommandLine.arguments[1]
let databaseName = "engine_bench_\(getpid())"
let admin = try await PostgresConnection.connect(adminURL)
try await admin.execute(script: "DROP DATABASE IF EXISTS \(databaseName); ")
try await admin.execute(script: "CREATE DATABASE \(databaseName)")
let url = adminURL[..<adminURL.lastIndex(of: "/")!] + "/\(databaseName)"
let db = try await PostgresConnection.connect(String(url))
try await Migrator().migrate(db)

// FIFO: 1,000,000 fills over 20 symbols, buys slightly ahead of sells.
var generator = SystemRandomNumberGenerator()
var fills: [Fill] = []
fills.reserveCapacity(1_000_000)
for index in 0..<1_000_000 {
    let side: Side = (index / 20) % 5 < 3 ? .buy : .sell
    fills.append(Fill(orderID: "f\(index)", symbol: "S\(index % 20)-USD", side: side,
                      time: Date(timeIntervalSince1970: Double(1_700_000_000 + index)),
                      price: Amount(units: Int128(Int64.random(in: 1...1_000_000, using: &generator) * 100_000)),
                      size: Amount(units: Int128(Int64.random(in: 1...1000, using: &generator) * 1_000_000)),
                      fees: Amount(units: Int128(Int64.random(in: 0...100, using: &generator) * 10_000))))
}
let (result, fifoSeconds) = try await measure { try FIFOAllocator.allocate(fills) }
print(String(format: "FIFO         1,000,000 fills in memory  %.2f s  (%d allocations, target < 1 s: %@)", fifoSeconds, result.allocations.count, fifoSeconds < 1 ? "PASS" : "FAIL"))

let allocations = result.allocations
let (_, writeSeconds) = try await measure {
    try await db.copyIn("COPY fifo_allocations (symbol, buy_order_id, sell_order_id, sell_time, qty, cost, proceeds, pnl, allocation_version) FROM STDIN") { writer in
        for allocation in allocations {
            writer.row([allocation.symbol, allocation.buyOrderID, allocation.sellOrderID, allocation.sellTime.postgresText,
                        allocation.quantity.description, allocation.cost.description, allocation.proceeds.description,
                        allocation.pnl.description, "2"])
        }
    }
}
print(String(format: "             writing %d allocations via COPY  %.2f s", allocations.count, writeSeconds))

await db.close()
try await admin.execute(script: "DROP DATABASE \(databaseName)")
await admin.close()
