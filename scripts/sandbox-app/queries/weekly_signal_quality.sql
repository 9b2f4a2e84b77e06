SELECT tsl.trigger_type, COUNT(*) AS trades, ROUND(AVG(tsl.buy_score), 2) AS avg_buy_score
FROM trade_strategy_link tsl
WHERE tsl.linked_at >= NOW() - INTERVAL '7 days'
GROUP BY tsl.trigger_type ORDER BY trades DESC;
