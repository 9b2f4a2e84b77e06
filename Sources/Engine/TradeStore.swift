import Foundation
import Postgres

public struct RecordSummary: Sendable, Equatable {
    public var inserted = 0
    public var duplicates = 0
    public var linked = 0
}

/// Strategy metadata that the bot's signal service sends ahead of a fill.
public struct StrategyMetadata: Sendable, Equatable {
    public var orderID: String
    public var snapshotID: String
    public var buyScore: Amount?
    public var sellScore: Amount?
    public var triggerType: String?

    public init(orderID: String, snapshotID: String, buyScore: Amount? = nil, sellScore: Amount? = nil, triggerType: String? = nil) {
        self.orderID = orderID
        self.snapshotID = snapshotID
        self.buyScore = buyScore
        self.sellScore = sellScore
        self.triggerType = triggerType
    }
}

extension Amount: PostgresBindable, PostgresDecodable {
    public var postgresText: String { description }
    public init?(postgresText: String) { self.init(postgresText) }
}

/// The trade ledger: fills, their linkage to strategy snapshots, and the metadata cache.
public struct TradeStore: Sendable {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// Records fills in one transaction: COPY into a staging table, then one set-based merge. An
    /// order id already recorded (or earlier in the same batch) is skipped, so recording a file
    /// again is harmless; a fill whose metadata is cached and unexpired is linked to its snapshot
    /// in the same statement. The table's constraints check every row again; any failure writes
    /// nothing. Orders already stored are set aside by an anti-join before the insert (a probe per
    /// conflicting row costs several times more); ON CONFLICT still covers a concurrent recorder.
    public func record(_ fills: [Fill]) async throws -> RecordSummary {
        try await connection.transaction { connection in
            // Enough memory to sort a backfill's order ids without spilling to disk.
            try await connection.query("SET LOCAL work_mem = '64MB'")
            try await connection.query("""
                CREATE TEMP TABLE fills_staging (
                    line integer, order_id text, symbol text, side text, order_time timestamptz, price numeric,
                    size numeric, fees numeric, status text, execution_mode text
                ) ON COMMIT DROP
                """)
            try await connection.copyIn("COPY fills_staging FROM STDIN") { writer in
                for (line, fill) in fills.enumerated() {
                    writer.row([String(line), fill.orderID, fill.symbol, fill.side.rawValue, fill.time.postgresText, fill.price.description,
                                fill.size.description, fill.fees.description, fill.status, fill.executionMode])
                }
            }
            let row = try await connection.query("""
                WITH inserted AS (
                    INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, fees, status, execution_mode)
                    SELECT DISTINCT ON (order_id) order_id, symbol, side, order_time, price, size, fees, status, execution_mode
                    FROM fills_staging s
                    WHERE NOT EXISTS (SELECT 1 FROM trade_records t WHERE t.order_id = s.order_id)
                    ORDER BY order_id, line
                    ON CONFLICT (order_id) DO NOTHING
                    RETURNING order_id
                ), linked AS (
                    INSERT INTO trade_strategy_link (order_id, snapshot_id, buy_score, sell_score, trigger_type)
                    SELECT c.order_id, c.snapshot_id, c.buy_score, c.sell_score, c.trigger_type
                    FROM strategy_metadata_cache c JOIN inserted USING (order_id)
                    WHERE c.expires_at > now()
                    ON CONFLICT (order_id) DO NOTHING
                    RETURNING order_id
                ), used AS (
                    DELETE FROM strategy_metadata_cache WHERE order_id IN (SELECT order_id FROM linked)
                )
                SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM linked)
                """).rows[0]
            let inserted = try row.int(0)
            return RecordSummary(inserted: inserted, duplicates: fills.count - inserted, linked: try row.int(1))
        }
    }

    /// Caches metadata for an order until `ttl` passes; a later fill of that order links to it.
    /// The snapshot must exist (a foreign key makes sure), so a cached row can always be linked.
    public func cache(_ metadata: StrategyMetadata, ttl: Duration) async throws {
        guard UUID(uuidString: metadata.snapshotID) != nil else { throw MetadataError.malformedSnapshotID(metadata.snapshotID) }
        do {
            try await insert(metadata, ttl: ttl)
        } catch let error as PostgresError where error.sqlstate == "23503" {
            throw MetadataError.unknownSnapshot(metadata.snapshotID)
        }
    }

    private func insert(_ metadata: StrategyMetadata, ttl: Duration) async throws {
        try await connection.query("""
            INSERT INTO strategy_metadata_cache (order_id, snapshot_id, buy_score, sell_score, trigger_type, expires_at)
            VALUES ($1, $2::uuid, $3, $4, $5, now() + make_interval(secs => $6::int))
            ON CONFLICT (order_id) DO UPDATE SET snapshot_id = EXCLUDED.snapshot_id, buy_score = EXCLUDED.buy_score,
                sell_score = EXCLUDED.sell_score, trigger_type = EXCLUDED.trigger_type, expires_at = EXCLUDED.expires_at
            """, [metadata.orderID, metadata.snapshotID, metadata.buyScore, metadata.sellScore, metadata.triggerType,
                  Int(ttl.components.seconds)])
    }

    /// All executed fills, for allocation.
    public func executedFills() async throws -> [Fill] {
        let result = try await connection.query("""
            SELECT order_id, symbol, side, extract(epoch FROM order_time)::text, price, size, fees, status, execution_mode
            FROM trade_records WHERE status IN ('filled', 'done')
            """)
        return try result.rows.map { row in
            Fill(orderID: try row.string(0), symbol: try row.string(1), side: try row.decode(Side.self, 2),
                 time: Date(timeIntervalSince1970: try row.decode(Double.self, 3)),
                 price: try row.decode(Amount.self, 4), size: try row.decode(Amount.self, 5), fees: try row.decode(Amount.self, 6),
                 status: try row.string(7), executionMode: try row.string(8))
        }
    }
}

extension Side: PostgresDecodable {
    public init?(postgresText: String) { self.init(rawValue: postgresText) }
}

extension Double: PostgresDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}

public enum MetadataError: Error, Equatable, CustomStringConvertible {
    case malformedSnapshotID(String)
    case unknownSnapshot(String)

    public var description: String {
        switch self {
        case .malformedSnapshotID(let id):
            return "'\(id.prefix(64))' is not a snapshot id (a UUID such as 1b4e28ba-2fa1-11d2-883f-0016d3cca427)"
        case .unknownSnapshot(let id):
            return "there is no snapshot \(id): use an id printed by `bot-engine snapshot activate`"
        }
    }
}
