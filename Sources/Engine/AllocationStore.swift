import Postgres

public struct AllocationSummary: Sendable, Equatable {
    public var allocations: Int
    public var realisedPnL: Amount
    public var oversells: [Oversell]
}

/// Writes FIFO v2 allocations: recomputed from all executed fills, replacing only version-2 rows,
/// in one transaction (readers see the old set or the new one, never half).
///
/// Recomputations are serialised by an advisory lock taken before the fills are read, so two
/// `allocate` runs at once write one set, computed from the fills the later one saw; a unique
/// index on (sell, buy) for version 2 refuses a second set whatever the application does.
public struct AllocationStore: Sendable {
    static let lockKey = 727_276
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    public func recompute() async throws -> AllocationSummary {
        try await connection.transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock($1)", [Self.lockKey])
            let result = try FIFOAllocator.allocate(try await TradeStore(connection).executedFills())
            let allocations = result.allocations
            try await connection.query("DELETE FROM fifo_allocations WHERE allocation_version = $1", [FIFOAllocator.version])
            try await connection.copyIn("""
                COPY fifo_allocations (symbol, buy_order_id, sell_order_id, sell_time, qty, cost, proceeds, pnl, allocation_version)
                FROM STDIN
                """) { writer in
                let version = String(FIFOAllocator.version)
                for allocation in allocations {
                    writer.row([allocation.symbol, allocation.buyOrderID, allocation.sellOrderID, allocation.sellTime.postgresText,
                                allocation.quantity.description, allocation.cost.description, allocation.proceeds.description,
                                allocation.pnl.description, version])
                }
            }
            return AllocationSummary(allocations: allocations.count, realisedPnL: result.realisedPnL, oversells: result.oversells)
        }
    }
}
