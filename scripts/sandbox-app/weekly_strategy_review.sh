#!/bin/bash
# Weekly strategy review (seed 000): runs queries/*.sql in the db container, writes logs/.
set -euo pipefail
BOT_DIR=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
OUT="$BOT_DIR/logs/weekly_review_$(date +%F).txt"
mkdir -p "$BOT_DIR/logs"
tmp=$(mktemp "$BOT_DIR/logs/.weekly_review.XXXXXX")
trap 'rm -f "$tmp"' EXIT
{
  echo "Weekly strategy review $(date -u +%FT%TZ)"
  for query in weekly_symbol_performance weekly_signal_quality weekly_timing_analysis; do
    echo "== $query"
    docker exec -i db psql -U bot_user -d bot_trader_db -v ON_ERROR_STOP=1 < "$BOT_DIR/queries/$query.sql"
  done
} > "$tmp"
chmod 644 "$tmp"
mv "$tmp" "$OUT"
trap - EXIT
echo "Report written: $OUT"
