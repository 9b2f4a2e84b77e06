#!/bin/bash
# backup --download throughput against scp -O of the same dump, three interleaved runs, and botops'
# peak RSS with and without --download. The download's time is from its temporary file appearing
# to the dump being named (fsync included; scp does not fsync). A scratch table of ROWS rows (default
# 3,000,000: a 178 MB dump) is added to the sandbox ledger and dropped at the end. Run as root after
# `swift build -c release`; takes the sandbox lock. BOTOPS=PATH runs another build; BEFORE=PATH also
# runs that build in the same rounds (its download right before botops's), to compare two builds.
set -u
cd "$(dirname "$0")/.."
exec 9>/tmp/botops-sandbox.lock && flock 9
B=${BOTOPS:-$PWD/.build/release/botops}  # BOTOPS: another build to compare
d=$(mktemp -d /tmp/botops-bench-download.XXXXXX); chown bot:bot "$d"
psql() { docker exec db psql -X -At -U bot_user -d bot_trader_db -c "$1"; }
trap 'psql "DROP TABLE IF EXISTS botops_bench_download" >/dev/null; rm -rf "$d"' EXIT
cp /var/lib/botops-sandbox/botops.yml "$d/c.yml"
printf 'backup:\n  dir: %s/backups\n  min_free_disk: 0\n' "$d" >> "$d/c.yml"
psql "CREATE TABLE botops_bench_download AS SELECT i, md5(random()::text) || md5(random()::text) || md5(random()::text) AS note FROM generate_series(1, ${ROWS:-3000000}) i" >/dev/null
/usr/bin/time -f "backup without --download: %e s, peak RSS %M KB" "$B" backup --no-verify --label plain --config "$d/c.yml" >/dev/null 2>"$d/err"; tail -1 "$d/err"
download() {  # BINARY OUT: sets start and end
  local out=$2
  "$1" backup --no-verify --download "$out" --config "$d/c.yml" >/dev/null 2>"$d/err" &
  pid=$! start= end=
  while kill -0 $pid 2>/dev/null; do
    now=$(date +%s.%N)
    if [ -z "$start" ] && ls -a "$out" 2>/dev/null | grep -q '\.dump\.partial'; then start=$now; fi
    if [ -n "$start" ] && [ -z "$end" ] && ls "$out" 2>/dev/null | grep -q '\.dump$'; then end=$now; fi
    sleep 0.005
  done
  wait $pid || { cat "$d/err"; exit 1; }
}
for run in $(seq "${RUNS:-3}"); do
  if [ -n "${BEFORE:-}" ]; then
    download "$BEFORE" "$d/before$run"; b0=$start b1=$end
  fi
  out=$d/out$run
  download "$B" "$out"
  f=$(ls "$out"/*.dump)
  s0=$(date +%s.%N); scp -O -q -F /var/lib/botops-sandbox/ssh/ssh_config bottrader-sandbox:"$d/backups/$(basename "$f")" "$d/scp.dump" || exit 1; s1=$(date +%s.%N)
  cmp -s "$f" "$d/scp.dump" || { echo "the two copies differ" >&2; exit 1; }
  awk -v b="$(stat -c %s "$f")" -v t="$start" -v e="$end" -v s0="$s0" -v s1="$s1" 'BEGIN {
    printf "run: %d bytes; --download %.2f s (%.0f MB/s), scp %.2f s (%.0f MB/s): %.2fx scp'"'"'s throughput\n", b, e - t, b / (e - t) / 1e6, s1 - s0, b / (s1 - s0) / 1e6, (s1 - s0) / (e - t) }'
  [ -z "${BEFORE:-}" ] || awk -v b="$(stat -c %s "$f")" -v t="$b0" -v e="$b1" -v s0="$s0" -v s1="$s1" 'BEGIN {
    printf "     before: --download %.2f s (%.0f MB/s): %.2fx scp'"'"'s throughput\n", e - t, b / (e - t) / 1e6, (s1 - s0) / (e - t) }'
  rm -f "$d/scp.dump"
done
/usr/bin/time -f "backup with --download: %e s, peak RSS %M KB" "$B" backup --no-verify --label rss --download "$d/rss" --config "$d/c.yml" >/dev/null 2>"$d/err"; tail -1 "$d/err"
[ -z "${BEFORE:-}" ] || { /usr/bin/time -f "before, backup with --download: %e s, peak RSS %M KB" "$BEFORE" backup --no-verify --label rss --download "$d/rss-before" --config "$d/c.yml" >/dev/null 2>"$d/err"; tail -1 "$d/err"; }
