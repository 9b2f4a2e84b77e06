-- The user's existing schema, as seeds 000 and 003 query it. Safe to apply again.
CREATE TABLE IF NOT EXISTS trade_records (
    order_id   text PRIMARY KEY,
    symbol     text NOT NULL,
    side       text NOT NULL,
    order_time timestamptz NOT NULL,
    price      numeric NOT NULL,
    size       numeric NOT NULL,
    fees       numeric NOT NULL DEFAULT 0,
    status     text NOT NULL
);
CREATE TABLE IF NOT EXISTS strategy_snapshots (
    snapshot_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    active_from      timestamptz NOT NULL DEFAULT now(),
    active_until     timestamptz,
    score_buy_target numeric,
    config           jsonb
);
CREATE TABLE IF NOT EXISTS trade_strategy_link (
    order_id     text PRIMARY KEY,
    snapshot_id  uuid,
    buy_score    numeric,
    sell_score   numeric,
    trigger_type text,
    linked_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS fifo_allocations (
    id                 bigserial PRIMARY KEY,
    symbol             text NOT NULL,
    buy_order_id       text NOT NULL,
    sell_order_id      text NOT NULL,
    sell_time          timestamptz NOT NULL,
    qty                numeric NOT NULL,
    pnl                numeric NOT NULL,
    allocation_version int NOT NULL DEFAULT 2
);
