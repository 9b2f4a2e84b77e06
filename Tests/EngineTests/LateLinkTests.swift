@testable import Engine
import Foundation
import Postgres
import SandboxSupport
import Testing

/// Waits (bounded) until `count` sessions of this database wait on a lock. `required: false` for a
/// waiter that gives up on its own (a lock timeout): on a loaded machine the poll may miss it.
func waitForLockWaiters(_ db: PostgresConnection, count: Int, required: Bool = true) async throws {
    for _ in 0..<1000 {
        let waiting = try await db.query("""
            SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
            """).rows[0].int(0)
        if waiting >= count { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    if required { Issue.record("fewer than \(count) sessions ever waited on a lock") }
}

/// Metadata that arrives after its fill (the linkage guide's race) is linked once, whatever the order.
@Suite(.enabled(if: Sandbox.isAvailable, "needs the sandbox's PostgreSQL: scripts/sandbox up"))
struct LateLinkTests {
    func links(_ db: PostgresConnection, _ order: String) async throws -> (count: Int, late: Int) {
        let row = try await db.query("SELECT count(*), count(*) FILTER (WHERE l.linked_at > t.recorded_at) FROM trade_strategy_link l JOIN trade_records t USING (order_id) WHERE order_id = $1", [order]).rows[0]
        return (try row.int(0), try row.int(1))
    }

    @Test func fillThenMetadataLinksLateAndMetadataThenFillLinksOnRecord() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await Migrator().migrate(db)
            let snapshot = try await SnapshotStore(db).activate(config: "{}", scoreBuyTarget: nil)
            let store = TradeStore(db)
            let now = Date().timeIntervalSince1970
            #expect(try await store.record([fill("late", .buy, at: now - 60, price: "1", size: "1")]).linked == 0)
            #expect(try await store.cache(StrategyMetadata(orderID: "late", snapshotID: snapshot, buyScore: Amount("3")), ttl: .seconds(60)))
            #expect(try await links(db, "late") == (1, 1))
            // Cached again: still one link, and nothing left waiting in the cache.
            #expect(try await store.cache(StrategyMetadata(orderID: "late", snapshotID: snapshot), ttl: .seconds(60)) == false)
            #expect(try await links(db, "late") == (1, 1))

            #expect(try await store.cache(StrategyMetadata(orderID: "early", snapshotID: snapshot), ttl: .seconds(60)) == false)
            #expect(try await store.record([fill("early", .buy, at: now - 30, price: "1", size: "1")]).linked == 1)
            #expect(try await links(db, "early") == (1, 0))
            #expect(try await store.linkageStats(hours: 1) == LinkageStats(linked: 2, total: 2, late: 1))
            #expect(try await db.query("SELECT count(*) FROM strategy_metadata_cache WHERE order_id = 'early'").rows[0].int(0) == 0)
        }
    }

    /// Both at once: each waits at the link table while it is locked, so each statement starts
    /// before the other commits; without the shared/exclusive lock neither saw the other (no link).
    @Test(arguments: [true, false])
    func recordAndMetadataAtOnceMakeExactlyOneLink(recordFirst: Bool) async throws {
        try await TestDatabase.with { db, database async throws in
            try await Migrator().migrate(db)
            let snapshot = try await SnapshotStore(db).activate(config: "{}", scoreBuyTarget: nil)
            let gate = try await database.connect()
            try await gate.query("BEGIN")
            try await gate.query("LOCK TABLE trade_strategy_link IN EXCLUSIVE MODE")
            let recording = { Task {
                try await database.connect().closing { try await TradeStore($0).record([fill("o", .buy, at: Date().timeIntervalSince1970, price: "1", size: "1")]) }
            } }
            let caching = { Task {
                try await database.connect().closing { try await TradeStore($0).cache(StrategyMetadata(orderID: "o", snapshotID: snapshot), ttl: .seconds(60)) }
            } }
            var first: Task<RecordSummary, Error>?, second: Task<Bool, Error>?
            if recordFirst { first = recording() } else { second = caching() }
            try await waitForLockWaiters(db, count: 1)
            if recordFirst { second = caching() } else { first = recording() }
            try await waitForLockWaiters(db, count: 2)
            try await gate.query("COMMIT")
            await gate.close()
            let summary = try await first!.value, linkedLate = try await second!.value
            #expect(summary.linked + (linkedLate ? 1 : 0) == 1)
            #expect(try await links(db, "o").count == 1)
        }
    }
}
