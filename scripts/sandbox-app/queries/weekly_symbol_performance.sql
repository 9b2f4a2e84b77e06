SELECT symbol, COUNT(*) AS allocations, ROUND(SUM(pnl), 2) AS realised_pnl
FROM fifo_allocations
WHERE allocation_version = 2 AND sell_time >= NOW() - INTERVAL '7 days'
GROUP BY symbol ORDER BY realised_pnl DESC;
