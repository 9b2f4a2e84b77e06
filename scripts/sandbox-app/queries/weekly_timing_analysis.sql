SELECT EXTRACT(HOUR FROM order_time) AS hour_utc, COUNT(*) AS fills
FROM trade_records
WHERE order_time >= NOW() - INTERVAL '7 days' AND status IN ('filled', 'done')
GROUP BY 1 ORDER BY 1;
