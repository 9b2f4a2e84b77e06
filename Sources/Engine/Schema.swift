/// The ledger's schema, as ordered migrations. Append new ones; never edit an applied one.
public enum Schema {
    public static let migrations = ledgerMigrations + backtestMigrations

    /// The ledger's own tables: what `migrate --adopt` compares a user's existing tables with.
    public static let ledgerMigrations = [
        Migration(version: 1, name: "ledger", commentOnlyEarlierChecksums: ["48fce20b958e2388e68eeee5fa40d27c"], sql: """
            CREATE TABLE trade_records (
                order_id       text PRIMARY KEY,
                symbol         text NOT NULL,
                side           text NOT NULL CHECK (side IN ('buy', 'sell')),
                order_time     timestamptz NOT NULL,
                price          numeric(20, 8) NOT NULL CHECK (price > 0),
                size           numeric(20, 8) NOT NULL CHECK (size > 0),
                fees           numeric(20, 8) NOT NULL DEFAULT 0 CHECK (fees >= 0),
                status         text NOT NULL,
                execution_mode text NOT NULL DEFAULT 'PAPER' CHECK (execution_mode IN ('PAPER', 'LIVE')),
                recorded_at    timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX trade_records_time ON trade_records (order_time);
            CREATE INDEX trade_records_symbol_time ON trade_records (symbol, order_time);

            CREATE TABLE fifo_allocations (
                id                 bigserial PRIMARY KEY,
                symbol             text NOT NULL,
                buy_order_id       text NOT NULL,
                sell_order_id      text NOT NULL,
                sell_time          timestamptz NOT NULL,
                qty                numeric(20, 8) NOT NULL,
                cost               numeric(20, 8) NOT NULL,
                proceeds           numeric(20, 8) NOT NULL,
                pnl                numeric(20, 8) NOT NULL,
                allocation_version integer NOT NULL
            );
            CREATE INDEX fifo_allocations_version_time ON fifo_allocations (allocation_version, sell_time);

            CREATE TABLE strategy_snapshots (
                snapshot_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                active_from      timestamptz NOT NULL DEFAULT now(),
                active_until     timestamptz,
                score_buy_target numeric(20, 8),
                config           jsonb NOT NULL,
                config_hash      text NOT NULL
            );
            -- Never two active snapshots, whatever the application does.
            CREATE UNIQUE INDEX strategy_snapshots_one_active ON strategy_snapshots ((true)) WHERE active_until IS NULL;

            CREATE TABLE trade_strategy_link (
                order_id     text PRIMARY KEY REFERENCES trade_records (order_id),
                snapshot_id  uuid NOT NULL REFERENCES strategy_snapshots (snapshot_id),
                buy_score    numeric(20, 8),
                sell_score   numeric(20, 8),
                trigger_type text,
                linked_at    timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX trade_strategy_link_time ON trade_strategy_link (linked_at);

            -- Strategy metadata the signal service sends ahead of a fill, kept until it expires.
            CREATE TABLE strategy_metadata_cache (
                order_id     text PRIMARY KEY,
                snapshot_id  uuid NOT NULL,
                buy_score    numeric(20, 8),
                sell_score   numeric(20, 8),
                trigger_type text,
                expires_at   timestamptz NOT NULL
            );

            CREATE TABLE cash_transactions (
                id          bigserial PRIMARY KEY,
                occurred_at timestamptz NOT NULL,
                kind        text NOT NULL CHECK (kind IN ('deposit', 'withdrawal')),
                amount      numeric(20, 8) NOT NULL CHECK (amount > 0),
                currency    text NOT NULL,
                note        text
            );

            CREATE TABLE market_bars (
                symbol    text NOT NULL,
                timeframe text NOT NULL,
                ts        timestamptz NOT NULL,
                open      numeric(20, 8) NOT NULL,
                high      numeric(20, 8) NOT NULL,
                low       numeric(20, 8) NOT NULL,
                close     numeric(20, 8) NOT NULL,
                volume    numeric(28, 8) NOT NULL,
                UNIQUE (symbol, timeframe, ts)
            );
            """),
        Migration(version: 2, name: "hardening", sql: """
            -- A numeric(20, 8) price times a numeric(20, 8) size needs up to 24 digits before the point.
            ALTER TABLE fifo_allocations
                ALTER COLUMN cost TYPE numeric(38, 8),
                ALTER COLUMN proceeds TYPE numeric(38, 8),
                ALTER COLUMN pnl TYPE numeric(38, 8);

            -- One version-2 row per (sell, buy). Concurrent recomputations used to write several
            -- copies of the same set: keep one of each (the next allocate rewrites them anyway).
            DELETE FROM fifo_allocations a USING fifo_allocations b
            WHERE a.allocation_version = 2 AND b.allocation_version = 2
              AND a.sell_order_id = b.sell_order_id AND a.buy_order_id = b.buy_order_id AND a.id > b.id;
            CREATE UNIQUE INDEX fifo_allocations_v2_pair ON fifo_allocations (sell_order_id, buy_order_id)
                WHERE allocation_version = 2;

            -- Cached metadata must name a real snapshot. Rows that do not could never be linked, and
            -- made every recording of their order fail until they expired.
            DELETE FROM strategy_metadata_cache c
            WHERE NOT EXISTS (SELECT 1 FROM strategy_snapshots s WHERE s.snapshot_id = c.snapshot_id);
            ALTER TABLE strategy_metadata_cache ADD CONSTRAINT strategy_metadata_cache_snapshot
                FOREIGN KEY (snapshot_id) REFERENCES strategy_snapshots (snapshot_id);
            """),
    ]
}
