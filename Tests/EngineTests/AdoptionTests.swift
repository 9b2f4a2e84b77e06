@testable import Engine
import Foundation
import Postgres
import SandboxSupport
import Testing

/// Ledger tables as the user's Python bot created them (the columns its recorder, reports and the
/// operator's queries use), built with the types such a bot's ORM writes.
enum UserLedger {
    static func tradeRecords(fees: Bool = true, priceType: String = "numeric") -> String {
        """
        CREATE TABLE trade_records (
            order_id       varchar(64) PRIMARY KEY,
            parent_id      varchar(64),
            symbol         varchar(20) NOT NULL,
            side           varchar(4) NOT NULL,
            order_time     timestamptz NOT NULL,
            price          \(priceType) NOT NULL,
            size           numeric NOT NULL,
            \(fees ? "fees numeric DEFAULT 0, execution_mode varchar(10) DEFAULT 'LIVE'," : "")
            status         varchar(20) NOT NULL,
            source         varchar(20) DEFAULT 'webhook'
        );
        """
    }

    static let rest = """
        CREATE TABLE fifo_allocations (
            id serial PRIMARY KEY, symbol varchar(20) NOT NULL, buy_order_id varchar(64) NOT NULL, sell_order_id varchar(64) NOT NULL,
            sell_time timestamptz NOT NULL, qty numeric NOT NULL, cost numeric NOT NULL, proceeds numeric NOT NULL, pnl numeric NOT NULL,
            allocation_version integer NOT NULL DEFAULT 1, created_at timestamptz DEFAULT now()
        );
        CREATE TABLE strategy_snapshots (
            snapshot_id uuid PRIMARY KEY DEFAULT gen_random_uuid(), active_from timestamptz NOT NULL DEFAULT now(),
            active_until timestamptz, score_buy_target numeric, config jsonb NOT NULL, config_hash varchar(64) NOT NULL, notes text
        );
        CREATE TABLE trade_strategy_link (
            order_id varchar(64) PRIMARY KEY, snapshot_id uuid NOT NULL REFERENCES strategy_snapshots (snapshot_id),
            buy_score numeric, sell_score numeric, trigger_type varchar(32), linked_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE cash_transactions (
            id serial PRIMARY KEY, occurred_at timestamptz NOT NULL, kind varchar(20) NOT NULL, amount numeric NOT NULL,
            currency varchar(10) NOT NULL DEFAULT 'USD', note text
        );
        """

    /// The bot's own trade recorder: it names its columns, and leaves out those it does not know.
    static func botInsert(_ db: PostgresConnection, _ order: String, _ symbol: String, _ side: String, hoursAgo: Double,
                          price: String, size: String, fees: String?) async throws {
        if let fees {
            try await db.query("""
                INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, fees, execution_mode, status, source)
                VALUES ($1, $2, $3, now() - make_interval(secs => $4::float8), $5::numeric, $6::numeric, $7::numeric, 'LIVE', 'filled', 'webhook')
                """, [order, symbol, side, String(hoursAgo * 3600), price, size, fees])
        } else {
            try await db.query("""
                INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, status, source)
                VALUES ($1, $2, $3, now() - make_interval(secs => $4::float8), $5::numeric, $6::numeric, 'filled', 'webhook')
                """, [order, symbol, side, String(hoursAgo * 3600), price, size])
        }
    }

    /// Every column, constraint and index of the schema, and the row counts: equal before and
    /// after means nothing changed.
    static func fingerprint(_ db: PostgresConnection) async throws -> String {
        try await db.query("""
            SELECT concat_ws(E'\\n',
              (SELECT string_agg(table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, ''), E'\\n' ORDER BY table_name, column_name)
               FROM information_schema.columns WHERE table_schema = 'public'),
              (SELECT string_agg(conrelid::regclass || ' ' || pg_get_constraintdef(oid), E'\\n' ORDER BY 1) FROM pg_constraint WHERE connamespace = 'public'::regnamespace),
              (SELECT string_agg(indexdef, E'\\n' ORDER BY indexdef) FROM pg_indexes WHERE schemaname = 'public'),
              (SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace),
              (SELECT count(*) FROM trade_records)::text)
            """).rows[0].string(0)
    }
}

@Suite(.enabled(if: Sandbox.isAvailable, "needs the sandbox's PostgreSQL: scripts/sandbox up"))
struct AdoptionTests {
    func count(_ db: PostgresConnection, _ sql: String) async throws -> Int {
        try await db.query(sql).rows[0].int(0)
    }

    @Test func theLedgerMigrationsSplitIntoStatementsOfOneTableEach() {
        let statements = SchemaStatement.split(Schema.ledgerMigrations)
        #expect(SchemaStatement.tables(statements) == ["trade_records", "fifo_allocations", "strategy_snapshots", "trade_strategy_link",
                                                        "strategy_metadata_cache", "cash_transactions", "market_bars"])
        #expect(statements.count == 17)
        #expect(statements.filter { $0.table == "strategy_metadata_cache" }.count == 3)
    }

    @Test(arguments: [true, false])
    func aUserLedgerIsAdoptedAndEveryCommandGivesTheIndependentFigures(withFees: Bool) async throws {
        try await TestDatabase.with { db, database async throws in
            try await db.execute(script: UserLedger.tradeRecords(fees: withFees) + UserLedger.rest)
            let fees: (String) -> String? = { withFees ? $0 : nil }
            // What the bot wrote before: a deposit, a round trip, its own link and version-1 allocation.
            let snapshot = try await db.query("""
                INSERT INTO strategy_snapshots (config, config_hash, active_from) VALUES ('{"score_buy_target": 2.5}', 'h1', now() - interval '2 days')
                RETURNING snapshot_id::text
                """).rows[0].string(0)
            try await db.query("INSERT INTO cash_transactions (occurred_at, kind, amount) VALUES (now() - interval '1 day', 'deposit', 1000)")
            try await UserLedger.botInsert(db, "b1", "BTC-USD", "buy", hoursAgo: 5, price: "100", size: "2", fees: fees("2"))
            try await UserLedger.botInsert(db, "s1", "BTC-USD", "sell", hoursAgo: 4, price: "110", size: "1", fees: fees("1"))
            try await db.query("INSERT INTO trade_strategy_link (order_id, snapshot_id, buy_score, trigger_type) VALUES ('b1', $1::uuid, 3, 'score')", [snapshot])
            try await db.query("""
                INSERT INTO fifo_allocations (symbol, buy_order_id, sell_order_id, sell_time, qty, cost, proceeds, pnl)
                VALUES ('BTC-USD', 'b1', 's1', now() - interval '4 hours', 1, 100, 110, 10)
                """)

            // Plain migrate refuses, naming --adopt; the dry run plans and changes nothing.
            let before = try await UserLedger.fingerprint(db)
            let refused = await #expect(throws: MigrationError.self) { try await Migrator().migrate(db) }
            #expect(refused == .adoptionNeeded(tables: ["trade_records", "fifo_allocations", "strategy_snapshots", "trade_strategy_link", "cash_transactions"]))
            #expect(refused?.description.contains("bot-engine migrate --adopt") == true)
            let dryRun = try await Migrator().adopt(db, dryRun: true)
            #expect(try await UserLedger.fingerprint(db) == before)
            let planned = dryRun.plan.steps.map(\.description)
            #expect(dryRun.plan.refusals == [])
            #expect(planned.contains("CREATE TABLE strategy_metadata_cache"))
            #expect(planned.contains("create unique index strategy_snapshots_one_active on strategy_snapshots ((true)) WHERE active_until IS NULL, CONCURRENTLY"))
            #expect(planned.contains { $0.hasPrefix("add constraint trade_records_side_check on trade_records") })
            #expect(planned.contains("add column trade_records.fees (numeric(20,8)) DEFAULT 0 NOT NULL: existing rows read 0") == !withFees)
            #expect(planned.contains("add column trade_records.execution_mode (text) DEFAULT 'PAPER'::text NOT NULL: existing rows read 'PAPER'::text") == !withFees)
            #expect(planned.contains("add constraint trade_records_fees_not_null on trade_records: CHECK ((fees IS NOT NULL)), NOT VALID") == withFees)

            let adopted = try await Migrator().adopt(db, dryRun: false)
            #expect(adopted.baseline == [1, 2])
            #expect(adopted.applied == [20])
            #expect(try await Migrator().migrate(db) == [])
            #expect(try await Migrator().adopt(db, dryRun: true).plan.steps == [])
            #expect(try await count(db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'bot_engine_adoption_reference'") == 0)
            // Nothing rewritten: the user's columns keep their types, rows their values.
            #expect(try await db.query("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'trade_records'::regclass AND attname = 'price'").rows[0].string(0) == "numeric")
            #expect(try await count(db, "SELECT count(*) FROM fifo_allocations WHERE allocation_version = 1 AND pnl = 10") == 1)

            // The bot's own insert still works, beside the engine's commands.
            try await UserLedger.botInsert(db, "b3", "SOL-USD", "buy", hoursAgo: 0.5, price: "20", size: "1", fees: fees("0"))
            let store = TradeStore(db)
            try await store.cache(StrategyMetadata(orderID: "b2", snapshotID: snapshot, buyScore: Amount("2"), triggerType: "score"), ttl: .seconds(600))
            let now = Date().timeIntervalSince1970
            let recorded = try await store.record([
                fill("b2", .buy, "ETH-USD", at: now - 3 * 3600, price: "10", size: "5"),
                fill("s2", .sell, "ETH-USD", at: now - 2 * 3600, price: "8", size: "5"),
                fill("s3", .sell, at: now - 3600, price: "90", size: "1", fees: "0.5"),
            ])
            #expect(recorded == RecordSummary(inserted: 3, duplicates: 0, linked: 1))
            #expect(try await store.cache(StrategyMetadata(orderID: "s3", snapshotID: snapshot, triggerType: "stop"), ttl: .seconds(600)))

            // FIFO by hand: BTC s1 1 × (110 − 1) − (100 + 1) = 8, s3 (90 − 0.5) − 101 = −11.5; ETH 5 × (8 − 10) = −10.
            // Without the fee columns the bot's two fills read fees 0: s1 10, s3 89.5 − 100 = −10.5.
            let (s1, s3) = withFees ? (8.0, -11.5) : (10.0, -10.5)
            let allocation = try await AllocationStore(db).recompute()
            #expect(allocation.realisedPnL == Amount(withFees ? "-13.5" : "-10.5"))
            #expect(allocation.allocations == 3)

            // The operator's linkage query, as written in their guide.
            let operatorLinkage = try await db.query("""
                SELECT COUNT(*) AS total_trades, COUNT(tsl.order_id) AS linked_trades
                FROM trade_records tr LEFT JOIN trade_strategy_link tsl ON tr.order_id = tsl.order_id
                WHERE tr.order_time >= NOW() - INTERVAL '6 hours' AND tr.status IN ('filled', 'done')
                """).rows[0]
            let linkage = try await store.linkageStats(hours: 6)
            #expect(linkage == LinkageStats(linked: try operatorLinkage.int(1), total: try operatorLinkage.int(0), late: 1))
            #expect(linkage.total == 6 && linkage.linked == 3)

            // Trades s1, −10, s3 on 1000 deposited: win rate 1/3, profit factor s1 / (10 − s3),
            // drawdown from the peak after s1 to the end.
            let performance = try await PerformanceMetric.compute(db, window: 20, capital: nil, thresholds: .init(), now: Date())
            #expect(performance.totalTrades == 3)
            #expect(performance.winRate == 1.0 / 3)
            #expect(abs((performance.profitFactor ?? 0) - s1 / (10 - s3)) < 1e-12)
            #expect(abs((performance.maxDrawdownPercent ?? 0) - (1000 + s1 - 10 + s3 - (1000 + s1)) / (1000 + s1) * 100) < 1e-9)
            #expect(performance.consecutiveLosses == 2)

            // The weekly review against the operator's three queries.
            let review = try await WeeklyReview.compute(db, end: Date().addingTimeInterval(1))
            let symbols = try await db.query("""
                SELECT symbol, COUNT(*), SUM(pnl)::text FROM fifo_allocations
                WHERE allocation_version = 2 AND sell_time >= NOW() - INTERVAL '7 days' GROUP BY symbol ORDER BY SUM(pnl) DESC
                """).rows.map { "\(try $0.string(0)) \(try $0.int(1)) \(Amount(try $0.string(2))!)" }
            #expect(review.symbols.map { "\($0.symbol) \($0.allocations) \($0.realisedPnL)" } == symbols)
            let signals = try await db.query("""
                SELECT tsl.trigger_type, COUNT(*), ROUND(AVG(tsl.buy_score), 8)::text FROM trade_strategy_link tsl
                WHERE tsl.linked_at >= NOW() - INTERVAL '7 days' GROUP BY tsl.trigger_type ORDER BY 2 DESC, 1
                """).rows.map { "\(try $0.string(0)) \(try $0.int(1)) \($0.optionalString(2).map { Amount($0)!.description } ?? "-")" }
            #expect(review.signals.map { "\($0.triggerType) \($0.trades) \($0.averageBuyScore?.description ?? "-")" } == signals)
            let hours = try await db.query("""
                SELECT EXTRACT(HOUR FROM order_time AT TIME ZONE 'UTC')::int, COUNT(*) FROM trade_records
                WHERE order_time >= NOW() - INTERVAL '7 days' AND status IN ('filled', 'done') GROUP BY 1 ORDER BY 1
                """).rows.map { WeeklyReview.HourLine(hour: try $0.int(0), fills: try $0.int(1)) }
            #expect(review.hours == hours)
            #expect(review.hours.reduce(0) { $0 + $1.fills } == 6)
        }
    }

    /// Interrupted before the baseline was recorded, with an index build left invalid (as an
    /// interrupted CREATE INDEX CONCURRENTLY leaves it): adopting again finishes the work.
    @Test func anInterruptedAdoptionIsResumed() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await db.execute(script: UserLedger.tradeRecords() + UserLedger.rest)
            try await UserLedger.botInsert(db, "b1", "BTC-USD", "buy", hoursAgo: 1, price: "100", size: "1", fees: "0")
            _ = try await Migrator().adopt(db, dryRun: false)
            try await db.execute(script: """
                DROP TABLE schema_migrations, backtest_equity, backtest_trades, backtest_runs;
                ALTER TABLE trade_records DROP CONSTRAINT trade_records_size_check;
                UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'trade_records_time'::regclass;
                """)
            let plan = try await Migrator().adopt(db, dryRun: true).plan
            #expect(plan.steps.map(\.description) == [
                "add constraint trade_records_size_check on trade_records: CHECK ((size > (0)::numeric)), NOT VALID",
                "drop the invalid index trade_records_time an interrupted build left",
                "create index trade_records_time on trade_records (order_time), CONCURRENTLY",
                "validate trade_records_size_check on trade_records",
            ])
            let resumed = try await Migrator().adopt(db, dryRun: false)
            #expect(resumed.baseline == [1, 2] && resumed.applied == [20])
            #expect(try await db.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'trade_records_time'::regclass").rows[0].bool(0))
        }
    }

    /// A step after the additive ones fails (the bot made a second active snapshot while the unique
    /// index was being built): the error names the step and says the database keeps what was added
    /// and how to resume; after the rows are corrected, adopting again finishes.
    @Test func aStepThatFailsMidwaySaysWhereItStoppedAndHowToResume() async throws {
        try await TestDatabase.with { db, database async throws in
            try await db.execute(script: UserLedger.tradeRecords() + UserLedger.rest)
            try await db.query("INSERT INTO strategy_snapshots (config, config_hash) VALUES ('{}', 'h1')")
            _ = try await Migrator().adopt(db, dryRun: false)
            try await db.execute(script: """
                DROP TABLE schema_migrations, backtest_equity, backtest_trades, backtest_runs;
                DROP INDEX strategy_snapshots_one_active;
                """)
            // Uncommitted while adoption plans, committed while its index is built.
            let bot = try await database.connect()
            try await bot.query("BEGIN")
            try await bot.query("INSERT INTO strategy_snapshots (config, config_hash) VALUES ('{}', 'h2')")
            let adopting = Task { try await database.connect().closing { try await Migrator().adopt($0, dryRun: false) } }
            try await waitForLockWaiters(db, count: 1)
            try await bot.query("COMMIT")
            await bot.close()
            let stopped = await #expect(throws: AdoptionInterrupted.self) { try await adopting.value }
            #expect(stopped?.description.hasPrefix("adoption stopped at 'create unique index strategy_snapshots_one_active on strategy_snapshots") == true,
                    "\(String(describing: stopped))")
            #expect(stopped?.description.hasSuffix("then run `bot-engine migrate --adopt` again: it resumes where it stopped.") == true)
            #expect(try await db.query("SELECT to_regclass('schema_migrations') IS NULL").rows[0].bool(0))
            try await db.query("UPDATE strategy_snapshots SET active_until = now() WHERE config_hash = 'h1'")
            #expect(try await Migrator().adopt(db, dryRun: false).baseline == [1, 2])
            #expect(try await db.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'strategy_snapshots_one_active'::regclass").rows[0].bool(0))
        }
    }

    /// The bot's tables in public, but another schema first on search_path: adoption used to look
    /// only there, find nothing, and create an empty ledger the engine then wrote to, beside the
    /// bot's. It refuses, naming both schemas, with nothing changed.
    @Test func tablesOutsideTheFirstSchemaOfTheSearchPathRefuseAdoption() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await db.execute(script: UserLedger.tradeRecords() + UserLedger.rest)
            try await UserLedger.botInsert(db, "b1", "BTC-USD", "buy", hoursAgo: 1, price: "100", size: "1", fees: "0")
            try await db.execute(script: "CREATE SCHEMA engine_first; SET search_path = engine_first, public")
            let before = try await UserLedger.fingerprint(db)
            let refusal = await #expect(throws: AdoptionRefused.self) { try await Migrator().adopt(db, dryRun: false) }
            #expect(refusal?.refusals.first == "trade_records is in schema public, but engine_first comes first on search_path, "
                    + "where the engine would create the tables it adds: put public first on search_path (or move the tables), then adopt")
            #expect(try await db.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'engine_first'").rows[0].int(0) == 0)
            #expect(try await UserLedger.fingerprint(db) == before)
        }
    }

    /// The bot's link table keeps trigger_type varchar(32): metadata with a longer trigger is
    /// refused when cached, not when its fill is recorded (where the link's insert failed the
    /// whole batch of fills, again on every try until the metadata expired).
    @Test func metadataTheBotsLinkTableCannotHoldIsRefusedWhenCachedNotWhenRecording() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await db.execute(script: UserLedger.tradeRecords() + UserLedger.rest)
            let snapshot = try await db.query("INSERT INTO strategy_snapshots (config, config_hash) VALUES ('{}', 'h1') RETURNING snapshot_id::text").rows[0].string(0)
            _ = try await Migrator().adopt(db, dryRun: false)
            let store = TradeStore(db)
            let long = String(repeating: "t", count: 33)
            await #expect(throws: MetadataError.self) {
                try await store.cache(StrategyMetadata(orderID: "o1", snapshotID: snapshot, triggerType: long), ttl: .seconds(600))
            }
            #expect(try await store.record([fill("o1", .buy, at: Date().timeIntervalSince1970, price: "1", size: "1")]).inserted == 1)
            #expect(try await store.cache(StrategyMetadata(orderID: "o1", snapshotID: snapshot, triggerType: String(long.dropLast())), ttl: .seconds(600)))
        }
    }

    /// Another migration tool's schema_migrations (dbmate, golang-migrate: a text version, no
    /// checksum) is not taken for bot-engine's history: migrate and adopt say so, changing nothing,
    /// instead of calling its versions migrations this bot-engine does not know.
    @Test func anotherToolsSchemaMigrationsIsNamedAsSuch() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await db.execute(script: UserLedger.tradeRecords() + UserLedger.rest + """
                CREATE TABLE schema_migrations (version varchar(255) PRIMARY KEY);
                INSERT INTO schema_migrations VALUES ('20240101120000');
                """)
            let before = try await UserLedger.fingerprint(db)
            for adopt in [false, true] {
                let error = await #expect(throws: MigrationError.self) {
                    if adopt { _ = try await Migrator().adopt(db, dryRun: false) } else { try await Migrator().migrate(db) }
                }
                #expect(error == .foreignHistory)
                #expect(error?.description.hasPrefix("schema_migrations is not bot-engine's history") == true)
            }
            #expect(try await UserLedger.fingerprint(db) == before)
        }
    }

    /// The user's own index holds the engine's index name, so the engine's is built as NAME_engine;
    /// a build of that interrupted (left invalid) is dropped and built again, not run into.
    @Test func anInterruptedBuildUnderTheSuffixedNameIsResumed() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await db.execute(script: UserLedger.tradeRecords() + UserLedger.rest + """
                CREATE INDEX trade_records_time ON trade_records (symbol);
                CREATE INDEX trade_records_time_engine ON trade_records (order_time);
                UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'trade_records_time_engine'::regclass;
                """)
            try await UserLedger.botInsert(db, "b1", "BTC-USD", "buy", hoursAgo: 1, price: "100", size: "1", fees: "0")
            let plan = try await Migrator().adopt(db, dryRun: true).plan.steps.map(\.description)
            #expect(plan.contains("drop the invalid index trade_records_time_engine an interrupted build left"))
            #expect(plan.contains("create index trade_records_time_engine on trade_records (order_time), CONCURRENTLY"))
            #expect(try await Migrator().adopt(db, dryRun: false).baseline == [1, 2])
            #expect(try await db.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'trade_records_time_engine'::regclass").rows[0].bool(0))
            #expect(try await db.query("SELECT pg_get_indexdef('trade_records_time'::regclass)").rows[0].string(0).hasSuffix("(symbol)"))
        }
    }

    /// FIFO amounts of numeric(20,8) become numeric(38,8) as migration 2 makes them, in place.
    @Test func narrowerNumericsOfTheSameScaleAreWidenedWithoutARewrite() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await db.execute(script: UserLedger.tradeRecords() + UserLedger.rest + """
                ALTER TABLE fifo_allocations ALTER COLUMN cost TYPE numeric(20,8), ALTER COLUMN proceeds TYPE numeric(20,8),
                    ALTER COLUMN pnl TYPE numeric(20,8);
                INSERT INTO fifo_allocations (symbol, buy_order_id, sell_order_id, sell_time, qty, cost, proceeds, pnl)
                VALUES ('BTC-USD', 'b', 's', now(), 1, 100, 110, 10);
                """)
            let file = "SELECT pg_relation_filenode('fifo_allocations')::text"
            let before = try await db.query(file).rows[0].string(0)
            let plan = try await Migrator().adopt(db, dryRun: true).plan
            #expect(plan.steps.map(\.description).contains("widen fifo_allocations.pnl from numeric(20,8) to numeric(38,8) (same scale: no rewrite)"))
            _ = try await Migrator().adopt(db, dryRun: false)
            #expect(try await db.query(file).rows[0].string(0) == before)
            #expect(try await db.query("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'fifo_allocations'::regclass AND attname = 'pnl'")
                    .rows[0].string(0) == "numeric(38,8)")
        }
    }

    @Test func anIncompatibleTypeIsRefusedWithNothingChanged() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await db.execute(script: UserLedger.tradeRecords(priceType: "double precision") + UserLedger.rest
                                 + "ALTER TABLE trade_strategy_link DROP CONSTRAINT trade_strategy_link_pkey;")
            try await UserLedger.botInsert(db, "b1", "BTC-USD", "buy", hoursAgo: 1, price: "100", size: "1", fees: "0")
            let before = try await UserLedger.fingerprint(db)
            for dryRun in [true, false] {
                let refusal = await #expect(throws: AdoptionRefused.self) { try await Migrator().adopt(db, dryRun: dryRun) }
                #expect(refusal?.refusals == [
                    "trade_records.price is double precision; the engine needs numeric(20,8) (changing it would rewrite the table)",
                    "trade_strategy_link has no primary key or unique index on (order_id), which the engine's merge (ON CONFLICT) relies on",
                ])
                #expect(refusal?.description.contains("nothing was changed") == true)
            }
            #expect(try await UserLedger.fingerprint(db) == before)
            #expect(try await db.query("SELECT to_regclass('schema_migrations') IS NULL").rows[0].bool(0))
        }
    }

    /// The engine reads amounts with 8 decimals at most: a price the bot stored with 9 in an
    /// unconstrained numeric would make `allocate`, `performance` and the report fail after
    /// adoption, so such rows refuse it, counted, with nothing changed.
    @Test func amountsWithMoreDecimalsThanTheEngineReadsRefuseAdoption() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await db.execute(script: UserLedger.tradeRecords() + UserLedger.rest)
            try await UserLedger.botInsert(db, "b1", "BTC-USD", "buy", hoursAgo: 1, price: "100.123456789", size: "1", fees: "0")
            try await UserLedger.botInsert(db, "b2", "BTC-USD", "buy", hoursAgo: 1, price: "100.12345678", size: "1", fees: "0")
            let before = try await UserLedger.fingerprint(db)
            let refusal = await #expect(throws: AdoptionRefused.self) { try await Migrator().adopt(db, dryRun: false) }
            #expect(refusal?.refusals == [
                "trade_records.price holds 1 values with more than 8 decimals (or beyond 30 digits, or NaN), which the engine cannot read: "
                    + "round them (UPDATE trade_records SET price = round(price, 8) WHERE price <> round(price, 8))",
            ])
            #expect(try await UserLedger.fingerprint(db) == before)
        }
    }

    /// A second adoption (or a plain migrate) started while the first one runs waits for it: it
    /// used to wait inside a statement, whose snapshot the first one's CREATE INDEX CONCURRENTLY
    /// then waited for, and PostgreSQL ended one of them with "deadlock detected".
    @Test func twoAdoptionsAtOnceTakeTurnsWithoutADeadlock() async throws {
        try await TestDatabase.with { db, database async throws in
            try await db.execute(script: UserLedger.tradeRecords(fees: false) + UserLedger.rest)
            try await UserLedger.botInsert(db, "b1", "BTC-USD", "buy", hoursAgo: 1, price: "100", size: "1", fees: nil)
            // Holds the first adoption at its ALTER TABLE until the second is waiting for its turn.
            let gate = try await database.connect()
            try await gate.query("BEGIN")
            try await gate.query("LOCK TABLE trade_records IN ACCESS SHARE MODE")
            let adopting = { Task { try await database.connect().closing { try await Migrator().adopt($0, dryRun: false) } } }
            let first = adopting()
            try await waitForLockWaiters(db, count: 1)
            let second = adopting()
            for _ in 0..<1000 {
                let asked = try await db.query("""
                    SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%advisory_lock(%' AND pid <> pg_backend_pid()
                    """).rows[0].int(0)
                if asked > 0 { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            try await gate.query("COMMIT")
            await gate.close()
            let results = [try await first.value, try await second.value]
            #expect(results.map(\.baseline).sorted { $0.count < $1.count } == [[], [1, 2]])
            #expect(results.contains { $0.alreadyManaged })
            #expect(try await db.query("SELECT count(*) FROM pg_index WHERE NOT indisvalid").rows[0].int(0) == 0)
        }
    }

    /// A long query of the bot's holding trade_records: adoption's ALTER TABLE gives up after its
    /// lock timeout, changing nothing, instead of queueing with an ACCESS EXCLUSIVE request that
    /// every insert of the bot would then queue behind.
    @Test func anAdoptionThatCannotGetItsLockGivesUpWithoutBlockingTheBot() async throws {
        try await TestDatabase.with { db, database async throws in
            try await db.execute(script: UserLedger.tradeRecords(fees: false) + UserLedger.rest)
            try await UserLedger.botInsert(db, "b1", "BTC-USD", "buy", hoursAgo: 1, price: "100", size: "1", fees: nil)
            let before = try await UserLedger.fingerprint(db)
            let reader = try await database.connect()
            try await reader.query("BEGIN")
            try await reader.query("SELECT count(*) FROM trade_records")
            let adopting = Task { try await database.connect().closing { try await Migrator(lockTimeout: .milliseconds(200)).adopt($0, dryRun: false) } }
            // Its wait lasts 0.2 s and may end before the poll sees it; the test still fails when
            // adoption queues without a timeout, since then the waiter stays and blocks the bot.
            try await waitForLockWaiters(db, count: 1, required: false)
            // The bot goes on inserting meanwhile (bounded, so that the old behaviour fails rather than hangs).
            let bot = try await database.connect()
            try await bot.query("SET statement_timeout = '4s'")
            try await UserLedger.botInsert(bot, "b2", "BTC-USD", "buy", hoursAgo: 1, price: "100", size: "1", fees: nil)
            await bot.close()
            try await reader.query("COMMIT")
            await reader.close()
            let refusal = await #expect(throws: AdoptionLockTimeout.self) { try await adopting.value }
            #expect(refusal?.description.hasPrefix("could not lock trade_records within 0.2 s") == true, "\(String(describing: refusal))")
            #expect(refusal?.description.contains("nothing was changed") == true)
            try await db.query("DELETE FROM trade_records WHERE order_id = 'b2'")
            #expect(try await UserLedger.fingerprint(db) == before)
            #expect(try await Migrator().adopt(db, dryRun: false).baseline == [1, 2])
        }
    }

    /// Rows the engine's rules forbid (an upper-case side) refuse adoption, counted, before anything changes.
    @Test func rowsThatBreakTheEnginesRulesRefuseAdoption() async throws {
        try await TestDatabase.with { db, _ async throws in
            try await db.execute(script: UserLedger.tradeRecords() + UserLedger.rest)
            try await UserLedger.botInsert(db, "b1", "BTC-USD", "BUY", hoursAgo: 1, price: "100", size: "1", fees: "0")
            let before = try await UserLedger.fingerprint(db)
            let refusal = await #expect(throws: AdoptionRefused.self) { try await Migrator().adopt(db, dryRun: false) }
            #expect(refusal?.refusals.count == 1)
            #expect(refusal?.refusals.first?.hasPrefix("1 rows of trade_records break the engine's rule CHECK") == true, "\(String(describing: refusal))")
            #expect(try await UserLedger.fingerprint(db) == before)
        }
    }
}

/// Which of the user's column types the engine takes as they are.
@Suite struct AdoptionTypeRuleTests {
    func column(_ type: String, _ precision: Int? = nil, _ scale: Int? = nil) -> LedgerCatalog.Column {
        LedgerCatalog.Column(name: "c", type: type, notNull: false, defaultExpression: nil, precision: precision, scale: scale)
    }

    @Test func typesAreTakenWidenedOrRefused() {
        let price = column("numeric(20,8)", 20, 8)
        #expect(Comparison.compatibility(found: column("numeric"), needed: price) == .same)
        #expect(Comparison.compatibility(found: column("numeric(30,10)", 30, 10), needed: price) == .same)
        #expect(Comparison.compatibility(found: column("numeric(38,8)", 38, 8), needed: price) == .same)
        #expect(Comparison.compatibility(found: column("numeric(12,8)", 12, 8), needed: price) == .widen)
        #expect(Comparison.compatibility(found: column("numeric(20,2)", 20, 2), needed: price) == .incompatible)
        #expect(Comparison.compatibility(found: column("double precision"), needed: price) == .incompatible)
        #expect(Comparison.compatibility(found: column("character varying(64)"), needed: column("text")) == .same)
        #expect(Comparison.compatibility(found: column("integer"), needed: column("bigint")) == .same)
        #expect(Comparison.compatibility(found: column("bigint"), needed: column("integer")) == .incompatible)
        #expect(Comparison.compatibility(found: column("timestamp without time zone"), needed: column("timestamp with time zone")) == .incompatible)
        #expect(Comparison.compatibility(found: column("json"), needed: column("jsonb")) == .incompatible)
    }

    @Test func checksOnVarcharColumnsMatchTheEnginesTextChecks() {
        #expect(Comparison.normalized("CHECK (((side)::text = ANY (ARRAY['buy'::text, 'sell'::text]))) NOT VALID")
                == "CHECK ((side = ANY (ARRAY['buy'::text, 'sell'::text])))")
    }
}
