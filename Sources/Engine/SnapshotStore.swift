import Postgres

/// Strategy snapshots: the parameter set the bot trades with, one active at a time.
public struct SnapshotStore: Sendable {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// Closes the active snapshot and opens a new one in the same transaction. Activations are
    /// serialised by an advisory lock, and a unique index forbids two active snapshots regardless.
    /// Returns the new snapshot id.
    public func activate(config: String, scoreBuyTarget: Amount?) async throws -> String {
        try await connection.transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(727275)")
            try await connection.query("UPDATE strategy_snapshots SET active_until = now() WHERE active_until IS NULL")
            return try await connection.query("""
                INSERT INTO strategy_snapshots (config, config_hash, score_buy_target)
                VALUES ($1::jsonb, md5($1::jsonb::text), $2)
                RETURNING snapshot_id
                """, [config, scoreBuyTarget]).rows[0].string(0)
        }
    }

    public func activeSnapshotIDs() async throws -> [String] {
        try await connection.query("SELECT snapshot_id FROM strategy_snapshots WHERE active_until IS NULL").rows.map { try $0.string(0) }
    }
}

public struct LinkageStats: Sendable, Equatable {
    public var linked: Int
    public var total: Int
    /// Links made after their fill was recorded (metadata that came late): `linked_at` after `recorded_at`.
    public var late: Int = 0
    /// linked / total, nil without executed trades in the window.
    public var rate: Double? { total == 0 ? nil : Double(linked) / Double(total) }
}

extension TradeStore {
    /// The linkage rate: executed trades in the last `hours` with a strategy link.
    public func linkageStats(hours: Int) async throws -> LinkageStats {
        let row = try await connection.query("""
            SELECT COUNT(*), COUNT(tsl.order_id), COUNT(tsl.order_id) FILTER (WHERE tsl.linked_at > tr.recorded_at)
            FROM trade_records tr LEFT JOIN trade_strategy_link tsl ON tr.order_id = tsl.order_id
            WHERE tr.order_time >= now() - make_interval(hours => $1::int) AND tr.status IN ('filled', 'done')
            """, [hours]).rows[0]
        return LinkageStats(linked: try row.int(1), total: try row.int(0), late: try row.int(2))
    }
}
