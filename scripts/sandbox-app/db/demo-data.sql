-- Demo activity for the sandbox: one active snapshot, fresh fills, their links and allocations.
INSERT INTO strategy_snapshots (active_from, score_buy_target, config)
SELECT now() - interval '2 days', 2.5, '{"score_buy_target": 2.5}'
WHERE NOT EXISTS (SELECT 1 FROM strategy_snapshots WHERE active_until IS NULL);

WITH run AS (SELECT to_char(clock_timestamp(), 'YYYYMMDDHH24MISSUS') AS tag),
fills AS (
    INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, fees, status)
    SELECT 'demo-' || run.tag || '-' || s.symbol || '-' || n, s.symbol, CASE WHEN n % 2 = 0 THEN 'buy' ELSE 'sell' END,
           now() - (n || ' hours')::interval, s.price + n, 0.5, 0.1, 'filled'
    FROM run, generate_series(1, 6) AS n,
         (VALUES ('BTC-USD', 60000.0), ('ETH-USD', 3000.0)) AS s(symbol, price)
    RETURNING order_id, symbol, side, order_time
)
INSERT INTO trade_strategy_link (order_id, snapshot_id, buy_score, sell_score, trigger_type, linked_at)
SELECT f.order_id, (SELECT snapshot_id FROM strategy_snapshots WHERE active_until IS NULL LIMIT 1),
       3.1, 1.2, 'score', f.order_time
FROM fills f WHERE f.symbol = 'BTC-USD';

INSERT INTO fifo_allocations (symbol, buy_order_id, sell_order_id, sell_time, qty, pnl, allocation_version)
SELECT symbol, order_id, order_id, order_time, size, 5.0, 2 FROM trade_records
WHERE side = 'sell' AND order_time >= now() - interval '1 day'
  AND order_id NOT IN (SELECT sell_order_id FROM fifo_allocations);
