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
    /// order already recorded with the same values (or earlier in the same batch) is skipped, so
    /// recording a file again is harmless; the same order with other values is a `RecordConflict`
    /// and nothing is written (keeping either silently would lose a fill). A fill whose metadata is
    /// cached and unexpired is linked to its snapshot in the same statement. The table's
    /// constraints check every row again; any failure writes nothing.
    ///
    /// Repeats within the batch are compared and left out here, so the staging table holds one row
    /// per order. One left join with the stored fills both sets stored orders aside and compares
    /// them (a probe per conflicting row costs several times more). An order a concurrent recorder
    /// inserts meanwhile is skipped by ON CONFLICT; if that happened, the staged fills are compared
    /// once more with what is committed now.
    public func record(_ fills: [Fill]) async throws -> RecordSummary {
        let firsts = try Self.firstOfEachOrder(fills)
        return try await connection.transaction { connection in
            // Enough memory to hash a backfill's orders for the join without spilling to disk.
            try await connection.query("SET LOCAL work_mem = '64MB'")
            try await connection.query("""
                CREATE TEMP TABLE fills_staging (
                    line integer, order_id text, symbol text, side text, order_time timestamptz, price numeric,
                    size numeric, fees numeric, status text, execution_mode text
                ) ON COMMIT DROP
                """)
            try await connection.copyIn("COPY fills_staging FROM STDIN") { writer in
                for line in firsts {
                    let fill = fills[line]
                    writer.row([String(line), fill.orderID, fill.symbol, fill.side.rawValue, fill.time.postgresText, fill.price.description,
                                fill.size.description, fill.fees.description, fill.status, fill.executionMode])
                }
            }
            try await connection.query("SELECT pg_advisory_xact_lock_shared($1)", [Self.linkLockKey])
            let row = try await connection.query(Self.merge).rows[0]
            try Self.throwConflict(row, from: 3)
            let inserted = try row.int(0), stored = try row.int(2)
            if inserted + stored < firsts.count {
                try Self.throwConflict(try await connection.query(Self.conflictNow).rows.first, from: 0)
            }
            return RecordSummary(inserted: inserted, duplicates: fills.count - inserted, linked: try row.int(1))
        }
    }

    static let recordedColumns = ["symbol", "side", "order_time", "price", "size", "fees", "status", "execution_mode"]

    /// For a staged row `s` joined to a stored fill `t`: the first column whose values differ,
    /// NULL if none does or nothing is stored. Numeric values compare by value (1.5 = 1.50000000).
    static let difference = "CASE WHEN t.order_id IS NULL THEN NULL "
        + recordedColumns.map { "WHEN s.\($0) IS DISTINCT FROM t.\($0) THEN '\($0)'" }.joined(separator: " ") + " END"

    /// Inserts the staged fills of orders not stored yet and links them; answers the counts
    /// inserted, linked and found stored, then the first line whose order is stored with other
    /// values (its order id, the differing column), which makes the caller roll back.
    static let merge = """
        WITH staged AS (
            SELECT s.*, t.order_id IS NOT NULL AS stored, \(difference) AS difference
            FROM fills_staging s LEFT JOIN trade_records t USING (order_id)
        ), conflict AS (
            SELECT line, order_id, difference FROM staged WHERE difference IS NOT NULL ORDER BY line LIMIT 1
        ), inserted AS (
            INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, fees, status, execution_mode)
            SELECT order_id, symbol, side, order_time, price, size, fees, status, execution_mode
            FROM staged WHERE NOT stored
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
        SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM linked), (SELECT count(*) FROM staged WHERE stored),
               (SELECT line FROM conflict), (SELECT order_id FROM conflict), (SELECT difference FROM conflict)
        """

    /// A new statement sees what concurrent recorders committed: the first staged line that differs.
    static let conflictNow = """
        SELECT line, order_id, difference FROM (
            SELECT s.line, s.order_id, \(difference) AS difference FROM fills_staging s JOIN trade_records t USING (order_id)
        ) compared
        WHERE difference IS NOT NULL ORDER BY line LIMIT 1
        """

    /// Throws the conflict that `row` names in the columns line, order id and field from `column`
    /// on, if it names one.
    static func throwConflict(_ row: Row?, from column: Int) throws {
        guard let row, row.optionalString(column) != nil else { return }
        throw RecordConflict(record: try row.int(column) + 1, orderID: try row.string(column + 1), earlierRecord: nil,
                             field: try row.string(column + 2))
    }

    /// The index of each order's first fill, in order; a later fill of the same order id (byte for
    /// byte, as PostgreSQL compares) must have the same values, as they would be stored.
    static func firstOfEachOrder(_ fills: [Fill]) throws(RecordConflict) -> [Int] {
        var firstOfOrder: [OrderKey: Int] = [:]
        firstOfOrder.reserveCapacity(fills.count)
        var firsts: [Int] = []
        firsts.reserveCapacity(fills.count)
        for (index, fill) in fills.enumerated() {
            let key = OrderKey(id: fill.orderID)
            guard let earlier = firstOfOrder[key] else {
                firstOfOrder[key] = index
                firsts.append(index)
                continue
            }
            let first = fills[earlier]
            let differences = [first.symbol != fill.symbol, first.side != fill.side, first.time.postgresText != fill.time.postgresText,
                               first.price != fill.price, first.size != fill.size, first.fees != fill.fees,
                               first.status != fill.status, first.executionMode != fill.executionMode]
            if let column = differences.firstIndex(of: true) {
                throw RecordConflict(record: index + 1, orderID: fill.orderID, earlierRecord: earlier + 1, field: recordedColumns[column])
            }
        }
        return firsts
    }

    /// Caches metadata for an order until `ttl` passes; a later fill of that order links to it.
    /// If the order's fill is recorded already (the signal came late, or the cache expired before
    /// the fill, as the linkage guide's race describes), it is linked now, in the same transaction,
    /// marked late. Answers whether it linked. The snapshot must exist (a foreign key makes sure),
    /// so a cached row can always be linked.
    ///
    /// Exactly one link whatever the order of arrival: caching takes `linkLockKey` exclusively and
    /// recording takes it shared before its merge, so each sees what the other committed (recorders
    /// still run side by side; a cache waits for the recordings in flight).
    @discardableResult
    public func cache(_ metadata: StrategyMetadata, ttl: Duration) async throws -> Bool {
        guard UUID(uuidString: metadata.snapshotID) != nil else { throw MetadataError.malformedSnapshotID(metadata.snapshotID) }
        do {
            return try await connection.transaction { connection in
                try await connection.query("SELECT pg_advisory_xact_lock($1)", [Self.linkLockKey])
                try await TradeStore(connection).insert(metadata, ttl: ttl)
                return try await connection.query(Self.linkLate, [metadata.orderID]).rows[0].int(0) > 0
            }
        } catch let error as PostgresError where error.sqlstate == "23503" {
            throw MetadataError.unknownSnapshot(metadata.snapshotID)
        } catch let error as PostgresError where error.sqlstate == "23514" {
            // The length limits adoption copies from the bot's link table (strategy_metadata_cache_COLUMN_length).
            guard let field = error.description.firstMatch(of: /strategy_metadata_cache_(\w+)_length/) else { throw error }
            throw MetadataError.tooLong(String(field.1))
        }
    }

    static let linkLockKey = 727_277

    /// The merge's linking rule for an order already recorded. `linked_at` is the clock, not the
    /// transaction's start, so it is after the fill's `recorded_at`: that is how a late link is told
    /// (the merge writes both with one `now()`).
    static let linkLate = """
        WITH linked AS (
            INSERT INTO trade_strategy_link (order_id, snapshot_id, buy_score, sell_score, trigger_type, linked_at)
            SELECT c.order_id, c.snapshot_id, c.buy_score, c.sell_score, c.trigger_type, clock_timestamp()
            FROM strategy_metadata_cache c JOIN trade_records t ON t.order_id = c.order_id
            WHERE c.order_id = $1 AND c.expires_at > now()
            ON CONFLICT (order_id) DO NOTHING
            RETURNING order_id
        ), used AS (
            DELETE FROM strategy_metadata_cache WHERE order_id IN (SELECT order_id FROM linked)
        )
        SELECT count(*) FROM linked
        """

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

/// An order id compared byte for byte, as PostgreSQL compares text (String's equality takes
/// canonically equivalent spellings, such as a precomposed and a combining é, as one).
struct OrderKey: Hashable {
    let id: String

    static func == (lhs: OrderKey, rhs: OrderKey) -> Bool { lhs.id.utf8.elementsEqual(rhs.id.utf8) }

    func hash(into hasher: inout Hasher) {
        if id.utf8.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) == nil {
            for byte in id.utf8 { hasher.combine(byte) }
        }
    }
}

/// A fill for an order that is already recorded, or earlier in the batch, with other values.
public struct RecordConflict: Error, Equatable, CustomStringConvertible {
    /// 1-based, as in the file.
    public var record: Int
    public var orderID: String
    /// The batch's earlier record of the order; nil if the conflict is with the stored fill.
    public var earlierRecord: Int?
    public var field: String

    public var description: String {
        let other = earlierRecord.map { "record \($0) of the same order" } ?? "the fill already recorded for it"
        return "record \(record): order \(shown(orderID, limit: 128)) differs from \(other) in \(field); nothing was written. "
            + "A fill is recorded once: correct the file, or the ledger, and record again."
    }
}

public enum MetadataError: Error, Equatable, CustomStringConvertible {
    case malformedSnapshotID(String)
    case unknownSnapshot(String)
    case tooLong(String)

    public var description: String {
        switch self {
        case .malformedSnapshotID(let id):
            return "\(shown(id, limit: 64)) is not a snapshot id (a UUID such as 1b4e28ba-2fa1-11d2-883f-0016d3cca427)"
        case .unknownSnapshot(let id):
            return "there is no snapshot \(id): use an id printed by `bot-engine snapshot activate`"
        case .tooLong(let field):
            return "the \(field) is longer than the ledger's trade_strategy_link.\(field) holds (a varchar column of the bot's): shorten it"
        }
    }
}
