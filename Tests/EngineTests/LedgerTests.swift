@testable import Engine
import Foundation
import Postgres
import SandboxSupport
import Testing

/// The ledger against the sandbox's real PostgreSQL; each test has its own database.
@Suite(.enabled(if: Sandbox.isAvailable, "needs the sandbox's PostgreSQL: scripts/sandbox up"))
struct LedgerTests {
    func migrated<T: Sendable>(_ body: (PostgresConnection, TestDatabase) async throws -> T) async throws -> T {
        try await TestDatabase.with { db, database in
            try await Migrator().migrate(db)
            return try await body(db, database)
        }
    }

    func count(_ db: PostgresConnection, _ sql: String) async throws -> Int {
        try await db.query(sql).rows[0].int(0)
    }

    /// A ledger migrated when migration 1's comment cited an internal document: its recorded
    /// checksum is accepted and brought up to date; any other checksum is still tampering.
    @Test func aMigrationWhoseCommentWasRewordedIsNotTampering() async throws {
        try await TestDatabase.with { db, _ async throws in
            _ = try await Migrator().migrate(db)
            try await db.query("UPDATE schema_migrations SET checksum = '48fce20b958e2388e68eeee5fa40d27c' WHERE version = 1")
            #expect(try await Migrator().migrate(db) == [])
            #expect(try await count(db, "SELECT count(*) FROM schema_migrations WHERE version = 1 AND checksum <> '48fce20b958e2388e68eeee5fa40d27c'") == 1)
            try await db.query("UPDATE schema_migrations SET checksum = md5('something else') WHERE version = 1")
            let error = await #expect(throws: MigrationError.self) { try await Migrator().migrate(db) }
            #expect(error == .tampered(version: 1, name: "ledger"))
        }
    }

    @Test func migrationsApplyOnceAndRefuseTampering() async throws {
        try await TestDatabase.with { db, _ async throws in
            #expect(try await Migrator().migrate(db) == [1, 2, 20])
            #expect(try await Migrator().migrate(db) == [])
            var tampered = Schema.migrations
            tampered[0] = Migration(version: 1, name: "ledger", sql: tampered[0].sql + "\n-- edited")
            let error = await #expect(throws: MigrationError.self) { try await Migrator(migrations: tampered).migrate(db) }
            #expect(error == .tampered(version: 1, name: "ledger"))
            let unknown = await #expect(throws: MigrationError.self) { try await Migrator(migrations: []).migrate(db) }
            #expect(unknown == .unknownApplied(version: 1))
        }
    }

    @Test func recordingIsIdempotentAndAtomic() async throws {
        try await migrated { db, _ async throws in
            let fills = [fill("a", .buy, at: 1_767_225_600, price: "100", size: "1"), fill("b", .sell, at: 1_767_225_660, price: "101", size: "1")]
            #expect(try await TradeStore(db).record(fills) == RecordSummary(inserted: 2, duplicates: 0, linked: 0))
            #expect(try await TradeStore(db).record(fills) == RecordSummary(inserted: 0, duplicates: 2, linked: 0))
            #expect(try await count(db, "SELECT count(*) FROM trade_records") == 2)

            // The same order twice in one batch: once recorded, once counted as present.
            let twice = [fill("t", .buy, at: 1_767_225_600, price: "5", size: "1"), fill("t", .buy, at: 1_767_225_600, price: "5.0", size: "1")]
            #expect(try await TradeStore(db).record(twice) == RecordSummary(inserted: 1, duplicates: 1, linked: 0))
            try await db.query("DELETE FROM trade_records WHERE order_id = 't'")

            // A batch that fails half-way (a database constraint) writes nothing.
            var broken = fill("d", .buy, at: 1_767_225_720, price: "1", size: "1")
            broken.size = .zero
            await #expect(throws: PostgresError.self) {
                _ = try await TradeStore(db).record([fill("c", .buy, at: 1_767_225_700, price: "1", size: "1"), broken])
            }
            #expect(try await count(db, "SELECT count(*) FROM trade_records") == 2)
        }
    }

    /// An order recorded `open` and later recorded `filled` at another price, or twice in one file
    /// with different sizes: the later fill used to be dropped as "already present".
    @Test func aFillThatContradictsItsOrderIsRefusedWithNothingWritten() async throws {
        try await migrated { db, _ async throws in
            var open = fill("o1", .buy, at: 1_767_225_600, price: "100", size: "1")
            open.status = "open"
            #expect(try await TradeStore(db).record([open]).inserted == 1)
            let filled = fill("o1", .buy, at: 1_767_225_600, price: "101", size: "1")
            let stored = await #expect(throws: RecordConflict.self) {
                try await TradeStore(db).record([fill("n1", .buy, at: 1_767_225_600, price: "1", size: "1"), filled])
            }
            #expect(stored == RecordConflict(record: 2, orderID: "o1", earlierRecord: nil, field: "price"))

            let sizes = [fill("n2", .buy, at: 1_767_225_600, price: "1", size: "1"), fill("n3", .buy, at: 1_767_225_600, price: "1", size: "1"),
                         fill("n2", .buy, at: 1_767_225_600, price: "1", size: "2")]
            let inBatch = await #expect(throws: RecordConflict.self) { try await TradeStore(db).record(sizes) }
            #expect(inBatch == RecordConflict(record: 3, orderID: "n2", earlierRecord: 1, field: "size"))
            #expect(inBatch?.description.hasPrefix("record 3: order 'n2' differs from record 1 of the same order in size; nothing was written.") == true)
            #expect(try await count(db, "SELECT count(*) FROM trade_records") == 1)
            #expect(try await count(db, "SELECT count(*) FROM trade_records WHERE status = 'open' AND price = 100") == 1)
        }
    }

    /// PostgreSQL stores a precomposed é and e + combining accent as two order ids; Swift's String
    /// equality would take them for one order and refuse the second fill as a contradiction.
    @Test func orderIDsAreComparedByteForByte() async throws {
        try await migrated { db, _ async throws in
            let fills = [fill("caf\u{E9}", .buy, at: 1_767_225_600, price: "1", size: "1"), fill("cafe\u{301}", .buy, at: 1_767_225_600, price: "2", size: "1")]
            #expect(try await TradeStore(db).record(fills) == RecordSummary(inserted: 2, duplicates: 0, linked: 0))
        }
    }

    /// Another recorder inserts the same order while this one runs: its row is invisible to this
    /// one's comparison, and ON CONFLICT used to skip this fill silently though its price differs.
    @Test func anOrderRecordedConcurrentlyWithOtherValuesIsRefused() async throws {
        try await migrated { db, database async throws in
            func recordWhileAnotherInserts(_ order: String, price: String) async throws -> RecordSummary {
                let other = try await database.connect()
                try await other.query("BEGIN")
                try await other.query("""
                    INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, status)
                    VALUES ($1, 'BTC-USD', 'buy', '2026-01-01T00:00:00Z', 1, 1, 'filled')
                    """, [order])
                let recording = Task {
                    try await database.connect().closing {
                        try await TradeStore($0).record([fill(order, .buy, at: 1_767_225_600, price: price, size: "1"),
                                                         fill("new-\(order)", .buy, at: 1_767_225_600, price: "1", size: "1")])
                    }
                }
                try await waitForLockWaiters(db, count: 1)
                try await other.query("COMMIT")
                await other.close()
                return try await recording.value
            }
            let error = await #expect(throws: RecordConflict.self) { try await recordWhileAnotherInserts("o1", price: "2") }
            #expect(error == RecordConflict(record: 1, orderID: "o1", earlierRecord: nil, field: "price"))
            #expect(try await count(db, "SELECT count(*) FROM trade_records WHERE order_id = 'new-o1'") == 0)
            // The same values: a duplicate as usual.
            #expect(try await recordWhileAnotherInserts("o2", price: "1") == RecordSummary(inserted: 1, duplicates: 1, linked: 0))
        }
    }

    @Test func eightConcurrentActivationsLeaveExactlyOneActive() async throws {
        try await migrated { _, database async throws in
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        let connection = try await database.connect()
                        let id = try await SnapshotStore(connection).activate(config: #"{"run": \#(index)}"#, scoreBuyTarget: Amount(index))
                        await connection.close()
                        return id
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let check = try await database.connect()
            #expect(Set(ids).count == 8)
            #expect(try await SnapshotStore(check).activeSnapshotIDs().count == 1)
            #expect(try await count(check, "SELECT count(*) FROM strategy_snapshots WHERE active_until IS NOT NULL") == 7)
            await check.close()
        }
    }

    @Test func cachedMetadataLinksTheFillUntilItExpires() async throws {
        try await migrated { db, _ async throws in
            let snapshot = try await SnapshotStore(db).activate(config: "{}", scoreBuyTarget: nil)
            let store = TradeStore(db)
            try await store.cache(StrategyMetadata(orderID: "fresh", snapshotID: snapshot, buyScore: Amount("3.1"), triggerType: "score"), ttl: .seconds(60))
            try await store.cache(StrategyMetadata(orderID: "stale", snapshotID: snapshot), ttl: .seconds(0))
            let now = Date().timeIntervalSince1970
            let summary = try await store.record([
                fill("fresh", .buy, at: now - 60, price: "1", size: "1"),
                fill("stale", .buy, at: now - 30, price: "1", size: "1"),
                fill("none", .buy, at: now - 10, price: "1", size: "1"),
            ])
            #expect(summary.linked == 1)
            #expect(try await store.linkageStats(hours: 1) == LinkageStats(linked: 1, total: 3))
            #expect(try await count(db, "SELECT count(*) FROM strategy_metadata_cache WHERE order_id = 'fresh'") == 0)
        }
    }

    @Test func recomputingReplacesOnlyVersionTwo() async throws {
        try await migrated { db, _ async throws in
            try await db.query("""
                INSERT INTO fifo_allocations (symbol, buy_order_id, sell_order_id, sell_time, qty, cost, proceeds, pnl, allocation_version)
                VALUES ('BTC-USD', 'x', 'y', now(), 1, 1, 1, 0, 1)
                """)
            _ = try await TradeStore(db).record([
                fill("b", .buy, at: 1_767_225_600, price: "100", size: "2", fees: "2"),
                fill("s", .sell, at: 1_767_225_700, price: "110", size: "1", fees: "1"),
            ])
            let first = try await AllocationStore(db).recompute()
            let second = try await AllocationStore(db).recompute()
            #expect(first == second)
            #expect(first.realisedPnL == Amount("8"))
            #expect(try await count(db, "SELECT count(*) FROM fifo_allocations WHERE allocation_version = 2") == 1)
            #expect(try await count(db, "SELECT count(*) FROM fifo_allocations WHERE allocation_version = 1") == 1)
            #expect(try await db.query("SELECT pnl FROM fifo_allocations WHERE allocation_version = 2").rows[0].decode(Amount.self, 0) == Amount("8"))
        }
    }

    @Test func weeklyReportMatchesHandComputedFigures() async throws {
        try await migrated { db, _ async throws in
            let end = Date(timeIntervalSince1970: 1_767_830_400)  // 2026-01-08 00:00 UTC
            let day: Double = 86400
            let base = end.timeIntervalSince1970
            let snapshot = try await SnapshotStore(db).activate(config: "{}", scoreBuyTarget: nil)
            let store = TradeStore(db)
            try await store.cache(StrategyMetadata(orderID: "b1", snapshotID: snapshot, buyScore: Amount("3"), triggerType: "score"), ttl: .seconds(60))
            try await store.cache(StrategyMetadata(orderID: "b2", snapshotID: snapshot, buyScore: Amount("2"), triggerType: "score"), ttl: .seconds(60))
            try await store.cache(StrategyMetadata(orderID: "s2", snapshotID: snapshot, triggerType: "stop"), ttl: .seconds(60))
            _ = try await store.record([
                fill("old", .buy, at: base - 10 * day, price: "50", size: "1"),            // outside the week
                fill("b1", .buy, at: base - 3 * day + 9 * 3600, price: "100", size: "2", fees: "2"),
                fill("s1", .sell, at: base - 2 * day + 14 * 3600, price: "110", size: "1", fees: "1"),
                fill("b2", .buy, "ETH-USD", at: base - 2 * day + 9 * 3600, price: "10", size: "5"),
                fill("s2", .sell, "ETH-USD", at: base - 1 * day + 14 * 3600, price: "8", size: "5"),
            ])
            _ = try await AllocationStore(db).recompute()
            let review = try await WeeklyReview.compute(db, end: end)
            // BTC: the "old" lot is sold first: 110 - 1 - 50 = 59. ETH: 5 × (8 - 10) = -10.
            #expect(review.symbols == [
                .init(symbol: "BTC-USD", allocations: 1, wins: 1, realisedPnL: Amount("59")!),
                .init(symbol: "ETH-USD", allocations: 1, wins: 0, realisedPnL: Amount("-10")!),
            ])
            #expect(review.signals == [.init(triggerType: "score", trades: 2, averageBuyScore: Amount("2.5")),
                                       .init(triggerType: "stop", trades: 1, averageBuyScore: nil)])
            #expect(review.hours == [.init(hour: 9, fills: 2), .init(hour: 14, fills: 2)])

            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = try review.write(to: directory.path)
            #expect(path.hasSuffix("/weekly_review_2026-01-08.txt"))
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.contains("total        2                            49.00000000"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).count == 1)
        }
    }

    @Test func reCollectedBarsReplaceStoredOnesUnlessKept() async throws {
        try await migrated { db, _ async throws in
            func bars(_ lines: String...) -> [UInt8] { Array(([MarketBarStore.header] + lines).joined(separator: "\n").utf8) }
            func close(_ ts: String) async throws -> String {
                try await db.query("SELECT close::text FROM market_bars WHERE ts = $1::timestamptz", [ts]).rows[0].string(0)
            }
            let store = MarketBarStore(db)
            let first = bars("BTC-USD,1m,2026-01-01T00:00:00Z,1,2,0.5,1.5,100", "BTC-USD,1m,2026-01-01T00:01:00Z,1.5,2,1,1.8,50\r")
            #expect(try await store.ingest(csv: first) == BarIngestSummary(added: 2))
            #expect(try await store.ingest(csv: first) == BarIngestSummary(unchanged: 2))

            let recollected = bars("BTC-USD,1m,2026-01-01T00:00:00Z,1,2,0.5,1.6,120", "BTC-USD,1m,2026-01-01T00:02:00Z,1.8,2,1,1.9,10")
            #expect(try await store.ingest(csv: recollected) == BarIngestSummary(added: 1, replaced: 1))
            #expect(try await close("2026-01-01T00:00:00Z") == "1.60000000")

            let kept = bars("BTC-USD,1m,2026-01-01T00:00:00Z,1,9,0.5,9,1", "BTC-USD,1m,2026-01-01T00:03:00Z,1,1,1,1,1")
            #expect(try await store.ingest(csv: kept, keepExisting: true) == BarIngestSummary(added: 1, unchanged: 1))
            #expect(try await close("2026-01-01T00:00:00Z") == "1.60000000")

            // The same bar twice in one file: the later line is the re-collected one.
            let twice = bars("ETH-USD,1m,2026-01-01T00:00:00Z,1,2,0.5,1.5,1", "ETH-USD,1m,2026-01-01T00:00:00Z,1,2,0.5,1.7,1")
            #expect(try await store.ingest(csv: twice) == BarIngestSummary(added: 1))
            #expect(try await db.query("SELECT close::text FROM market_bars WHERE symbol = 'ETH-USD'").rows[0].string(0) == "1.70000000")

            let bad = bars("BTC-USD,1m,2026-01-01T00:02:00Z,1,2,x,1,1")
            let error = await #expect(throws: BarIngestError.self) { try await store.ingest(csv: bad) }
            #expect(error?.line == 2)
            #expect(throws: BarIngestError.self) { try MarketBarStore.validatedLines(Array("nope\n".utf8)) }
        }
    }

    @Test func concurrentAllocationsWriteOneSet() async throws {
        try await migrated { db, database async throws in
            _ = try await TradeStore(db).record((0..<40).map { index in
                fill("o\(index)", index % 3 == 2 ? .sell : .buy, at: 1_767_225_600 + Double(index), price: "\(100 + index)", size: "1", fees: "0.1")
            })
            let expected = try await AllocationStore(db).recompute()
            // All four start while the table is locked, so they all run into each other at once.
            let gate = try await database.connect()
            try await gate.query("BEGIN")
            try await gate.query("LOCK TABLE fifo_allocations IN EXCLUSIVE MODE")
            let runs = Task {
                try await withThrowingTaskGroup(of: AllocationSummary.self) { group in
                    for _ in 0..<4 {
                        group.addTask { try await database.connect().closing { try await AllocationStore($0).recompute() } }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            try await waitForLockWaiters(db, count: 4)
            try await gate.query("COMMIT")
            await gate.close()
            #expect(try await runs.value == Array(repeating: expected, count: 4))
            #expect(try await count(db, "SELECT count(*) FROM fifo_allocations WHERE allocation_version = 2") == expected.allocations)

            // The database itself refuses a second copy of a version-2 allocation.
            let duplicate = await #expect(throws: PostgresError.self) {
                try await db.query("""
                    INSERT INTO fifo_allocations (symbol, buy_order_id, sell_order_id, sell_time, qty, cost, proceeds, pnl, allocation_version)
                    SELECT symbol, buy_order_id, sell_order_id, sell_time, qty, cost, proceeds, pnl, 2 FROM fifo_allocations LIMIT 1
                    """)
            }
            #expect(duplicate?.sqlstate == "23505")
        }
    }

    @Test func amountsAcrossTheColumnRangeAllocateAndStoreExactly() async throws {
        try await migrated { db, _ async throws in
            // 10,000,000 × 10,000 overflowed 64-bit units; the largest price × size needs 24 digits.
            let fills = try FillReader.read("""
                order_id,symbol,side,order_time,price,size,fees
                b1,BTC-USD,buy,2026-01-05T10:00:00Z,10000000,10000,0
                s1,BTC-USD,sell,2026-01-05T11:00:00Z,999999999999.99999999,10000,999999999999.99999999
                b2,ETH-USD,buy,2026-01-05T10:00:00Z,92233720368.99999999,1,0
                """, format: .csv)
            #expect(try await TradeStore(db).record(fills).inserted == 3)
            let summary = try await AllocationStore(db).recompute()
            #expect(summary.realisedPnL == Amount("9998899999999999.99990001"))
            let stored = try await db.query("SELECT cost, proceeds, pnl FROM fifo_allocations WHERE allocation_version = 2").rows[0]
            #expect(try stored.decode(Amount.self, 0) == Amount("100000000000"))
            #expect(try stored.decode(Amount.self, 1) == Amount("9998999999999999.99990001"))
            #expect(try await db.query("SELECT price FROM trade_records WHERE order_id = 'b2'").rows[0].decode(Amount.self, 0)
                    == Amount("92233720368.99999999"))
        }
    }

    /// The bot's own services write trade_records too, so allocate meets every time a timestamptz
    /// holds: `infinity` and PostgreSQL's last years used to trap, BC times were refused.
    @Test func allocationKeepsEveryStoredSellTime() async throws {
        try await migrated { db, _ async throws in
            try await db.execute(script: """
                INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, status) VALUES
                    ('b1', 'BTC-USD', 'buy', '0501-01-01 BC', 1, 1, 'filled'), ('s1', 'BTC-USD', 'sell', '0500-06-30 12:00:00.5 BC', 2, 1, 'filled'),
                    ('b2', 'ETH-USD', 'buy', '294276-01-01', 1, 1, 'filled'), ('s2', 'ETH-USD', 'sell', '294276-12-31 23:59:59', 2, 1, 'filled'),
                    ('b3', 'SOL-USD', 'buy', '2026-01-05', 1, 1, 'filled'), ('s3', 'SOL-USD', 'sell', 'infinity', 2, 1, 'filled');
                """)
            #expect(try await AllocationStore(db).recompute().allocations == 3)
            #expect(try await count(db, """
                SELECT count(*) FROM fifo_allocations a JOIN trade_records t ON t.order_id = a.sell_order_id
                WHERE a.allocation_version = 2 AND a.sell_time = t.order_time
                """) == 3)
        }
    }

    /// A fill of year 12 is stored in year 12 (its time was once sent as `12-01-05`, read as 2005).
    @Test func earlyYearsAreRecordedAsWritten() async throws {
        try await migrated { db, _ async throws in
            let fills = try FillReader.read("""
                order_id,symbol,side,order_time,price,size
                y1,BTC-USD,buy,0001-01-05T00:00:00Z,1,1
                y12,BTC-USD,buy,0012-01-05T00:00:00Z,1,1
                """, format: .csv)
            try await TradeStore(db).record(fills)
            let stored = try await db.query("SELECT to_char(order_time AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM trade_records ORDER BY order_id")
            #expect(try stored.rows.map { try $0.string(0) } == ["0001-01-05", "0012-01-05"])
        }
    }

    @Test func metadataMustNameAnExistingSnapshot() async throws {
        try await migrated { db, _ async throws in
            let store = TradeStore(db)
            let unknown = UUID().uuidString.lowercased()
            let error = await #expect(throws: MetadataError.self) {
                try await store.cache(StrategyMetadata(orderID: "o", snapshotID: unknown), ttl: .seconds(60))
            }
            #expect(error == .unknownSnapshot(unknown))
            let malformed = await #expect(throws: MetadataError.self) {
                try await store.cache(StrategyMetadata(orderID: "o", snapshotID: "snapshot-7"), ttl: .seconds(60))
            }
            #expect(malformed == .malformedSnapshotID("snapshot-7"))
            // Nothing was cached, so the order's fill records as usual.
            #expect(try await store.record([fill("o", .buy, at: 1_767_225_600, price: "1", size: "1")]).inserted == 1)
        }
    }

    @Test func migrationTwoCleansUpWhatTheOldSchemaAllowed() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await Migrator(migrations: [Schema.migrations[0]]).migrate(db)
            try await db.execute(script: """
                INSERT INTO fifo_allocations (symbol, buy_order_id, sell_order_id, sell_time, qty, cost, proceeds, pnl, allocation_version)
                SELECT 'BTC-USD', 'b', 's', now(), 1, 1, 2, 1, 2 FROM generate_series(1, 3);
                INSERT INTO strategy_metadata_cache (order_id, snapshot_id, expires_at) VALUES ('o', gen_random_uuid(), now() + interval '1 hour');
                """)
            #expect(try await Migrator().migrate(db) == [2, 20])
            #expect(try await count(db, "SELECT count(*) FROM fifo_allocations") == 1)
            #expect(try await count(db, "SELECT count(*) FROM strategy_metadata_cache") == 0)
        }
    }

    @Test func anUnknownAppliedVersionStopsMigrationBeforeAnythingIsApplied() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await db.execute(script: """
                CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                                                applied_at timestamptz NOT NULL DEFAULT now());
                INSERT INTO schema_migrations (version, name, checksum) VALUES (99, 'from a newer bot-engine', 'x');
                """)
            let error = await #expect(throws: MigrationError.self) { try await Migrator().migrate(db) }
            #expect(error == .unknownApplied(version: 99))
            #expect(try await count(db, "SELECT count(*) FROM schema_migrations") == 1)
            #expect(try await db.query("SELECT to_regclass('trade_records') IS NULL").rows[0].bool(0))
        }
    }

    /// A race, so it is made tight and run often: the eight connections are open before any
    /// migrates, on four fresh databases (one round alone missed an unlocked CREATE TABLE IF NOT
    /// EXISTS about one time in three).
    @Test func concurrentMigrationsOfAFreshDatabaseApplyEachVersionOnce() async throws {
        for _ in 0..<4 {
            try await TestDatabase.with { db, database async throws in
                var connections: [PostgresConnection] = []
                for _ in 0..<8 { connections.append(try await database.connect()) }
                let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                    for connection in connections {
                        group.addTask { try await connection.closing { try await Migrator().migrate($0) } }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
                #expect(applied.sorted() == [1, 2, 20])
                #expect(try await count(db, "SELECT count(*) FROM schema_migrations") == 3)
            }
        }
    }

    @Test func barTimesWithoutAZoneAreUTCWhateverTheServerZone() async throws {
        try await migrated { db, _ async throws in
            try await db.query("SET TimeZone = 'America/New_York'")
            let csv = Array("\(MarketBarStore.header)\nBTC-USD,1m,2026-01-01 00:00:00,1,2,0.5,1.5,100\n".utf8)
            #expect(try await MarketBarStore(db).ingest(csv: csv) == BarIngestSummary(added: 1))
            #expect(try await db.query("SELECT ts = '2026-01-01T00:00:00Z' FROM market_bars").rows[0].bool(0))
        }
    }

    @Test func barErrorsNameTheLineOfTheFile() async throws {
        try await migrated { db, _ async throws in
            let csv = Array("""
                \(MarketBarStore.header)
                BTC-USD,1m,2026-01-01T00:00:00Z,1,2,0.5,1.5,100

                BTC-USD,1m,0000-01-01T00:00:00Z,1,2,0.5,1.5,100
                """.utf8)
            // Year 0000 passes the file's checks; PostgreSQL has no year 0 and names COPY's line 2.
            let error = await #expect(throws: BarIngestError.self) { try await MarketBarStore(db).ingest(csv: csv) }
            #expect(error?.line == 4)
            #expect(error?.problem.contains("out of range") == true, "\(String(describing: error))")
            #expect(try await count(db, "SELECT count(*) FROM market_bars") == 0)
        }
    }
}
