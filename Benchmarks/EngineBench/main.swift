// Engine benchmarks (issue 4), each with a baseline from the same run:
//   ingest-bars: 1,000,000 bars via COPY (target < 2 s) vs row-by-row parameterised INSERTs
//   FIFO: allocation of 1,000,000 fills in memory (target < 1 s), and writing them via COPY
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

// Bars: 1,000,000 one-minute bars, 10 symbols of 100,000 each in time order (as exchange exports
// come), as CSV bytes.
let barCount = 1_000_000
var csv = Array((MarketBarStore.header + "\n").utf8)
csv.reserveCapacity(barCount * 70)
let startEpoch = 1_735_689_600
for index in 0..<barCount {
    let symbol = "SYM\(index / 100_000)-USD"
    let ts = Date(timeIntervalSince1970: Double(startEpoch + (index % 100_000) * 60)).postgresText
    let price = 100 + index % 97
    csv.append(contentsOf: "\(symbol),1m,\(ts),\(price),\(price + 1),\(price - 1),\(price).5,\(index % 1000)\n".utf8)
}
let (added, copySeconds) = try await measure { try await MarketBarStore(db).ingest(csv: csv) }
precondition(added == barCount, "expected \(barCount) new bars, got \(added)")

/// The baseline: one parameterised INSERT per bar, all in one transaction.
func insertRowByRow(_ db: PostgresConnection, count: Int) async throws {
    try await db.transaction { db in
        for index in 0..<count {
            let ts = Date(timeIntervalSince1970: Double(1_800_000_000 + index * 60))
            try await db.query("""
                INSERT INTO market_bars (symbol, timeframe, ts, open, high, low, close, volume)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING
                """, ["ROW-USD", "1m", ts, "1", "2", "0.5", "1.5", "10"])
        }
    }
}

let insertCount = 20_000
let (_, insertSeconds) = try await measure { try await insertRowByRow(db, count: insertCount) }
let copyRate = Double(barCount) / copySeconds
let insertRate = Double(insertCount) / insertSeconds
print(String(format: "ingest-bars  1,000,000 bars via COPY  %.2f s  (%.0f rows/s, target < 2 s: %@)", copySeconds, copyRate, copySeconds < 2 ? "PASS" : "FAIL"))
print(String(format: "             row-by-row INSERT        %.0f rows/s over %d rows  ->  COPY is %.1fx faster", insertRate, insertCount, copyRate / insertRate))

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
