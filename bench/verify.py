#!/usr/bin/env python3
"""botops verify vs the runbook (issue 3), as ratios measured in one run on the sandbox.

  (a) seed 000's nine verification commands as nine sequential `ssh host '...'` calls
  (b) one ssh connection running the nine commands concurrently (hand-written script)
  botops verify: target >= 3x faster than (a), no slower than (b); peak RSS < 30 MB.

Needs the sandbox (scripts/sandbox up) and the release build (see common.BUILD).
"""
import os, statistics
from common import BOTOPS, CONFIG, SSH, require, run, verdict

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
PSQL = "docker exec db psql -U bot_user -d bot_trader_db -c"

# Seed 000, "Verification Commands", with the sandbox's paths (the same as production's).
RUNBOOK = [
    "crontab -l | grep weekly",
    "ls -la /opt/bot/weekly_strategy_review.sh",
    "ls -la /opt/bot/queries/*.sql",
    "docker ps | grep db",
    f"{PSQL} 'SELECT COUNT(*) FROM trade_records;'",
    "/opt/bot/weekly_strategy_review.sh",
    "ls -lh /opt/bot/logs/weekly_review_*.txt | tail -1",
    f"{PSQL} \"SELECT COUNT(*) as linked_trades FROM trade_strategy_link WHERE linked_at >= NOW() - INTERVAL '1 day';\"",
    f"{PSQL} \"SELECT snapshot_id, active_from, score_buy_target FROM strategy_snapshots WHERE active_until IS NULL;\"",
]
# One connection, everything at once; the report file listing must follow the script.
CONCURRENT = " & ".join(f"( {c} )" for i, c in enumerate(RUNBOOK) if i not in (5, 6))
CONCURRENT = f"{CONCURRENT} & ( {RUNBOOK[5]} && {RUNBOOK[6]} ) & wait"


def sequential():
    return sum(run(SSH + [command])[0] for command in RUNBOOK)


def main():
    require(BOTOPS)
    run([BOTOPS, "verify", "--config", CONFIG])  # warm caches
    botops, rss, seq, conc = [], [], [], []
    for _ in range(ROUNDS):
        elapsed, peak = run([BOTOPS, "verify", "--config", CONFIG])
        botops.append(elapsed)
        rss.append(peak)
        seq.append(sequential())
        conc.append(run(SSH + [CONCURRENT])[0])
    b, a, c = statistics.median(botops), statistics.median(seq), statistics.median(conc)
    print(f"botops verify               {b:7.1f} ms (median of {ROUNDS})")
    print(f"(a) nine sequential ssh     {a:7.1f} ms   speed-up {a / b:.2f}x  (target >= 3)   {verdict(a / b >= 3)}")
    print(f"(b) one ssh, concurrent     {c:7.1f} ms   ratio {b / c:.2f}x  (target <= 1.00)  {verdict(b <= c)}")
    print(f"peak RSS of botops verify   {max(rss):7.1f} MB   (target < 30)  {verdict(max(rss) < 30)}")


if __name__ == "__main__":
    main()
