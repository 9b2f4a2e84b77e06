#!/usr/bin/env python3
"""botops verify vs the runbook, as ratios measured in one run on the sandbox.

  (a) the runbook's nine verification commands as nine sequential `ssh host '...'` calls
  (b) one ssh connection running the nine commands concurrently (hand-written script): the floor
  botops verify: target >= 3x faster than (a), no slower than (b); peak RSS < 30 MB.
  botops verify with the shipped crontab.d (its scheduled-run probes beside the checks): no
  slower than (b), the floor measured in the same rounds.

Then again on a host whose report script takes most of the time: a copy of the weekly script
whose three sequential `docker exec psql` calls each wait 0.25 s first. It is created on the host
for the duration of the run and removed afterwards; run this script under
`flock /tmp/botops-sandbox.lock`, since it adds a file to the shared app checkout.

Needs the sandbox (scripts/sandbox up) and the release build (see common.BUILD).
"""
import os, statistics, subprocess, tempfile
from common import BOTOPS, CONFIG, SSH, require, run, verdict

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
APP = "/opt/bot"
SHIPPED_CRONTAB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crontab.d")
PSQL = "docker exec db psql -U bot_user -d bot_trader_db -c"
SCRIPT = "weekly_strategy_review.sh"
SLOW_SCRIPT = "weekly_strategy_review_slow.sh"
# Each query's psql first sleeps 0.25 s: the script's three sequential docker exec psql dominate.
MAKE_SLOW = (f"sed 's|< \"$BOT_DIR/queries/$query.sql\"|< <(echo \"SELECT pg_sleep(0.25);\"; cat \"$BOT_DIR/queries/$query.sql\")|' "
             f"{APP}/{SCRIPT} > {APP}/{SLOW_SCRIPT} && chmod +x {APP}/{SLOW_SCRIPT} && grep -q pg_sleep {APP}/{SLOW_SCRIPT}")


def runbook(script):
    """The runbook's "Verification Commands", with the sandbox's paths (the same as production's)."""
    return [
        "crontab -l | grep weekly",
        f"ls -la {APP}/{script}",
        f"ls -la {APP}/queries/*.sql",
        "docker ps | grep db",
        f"{PSQL} 'SELECT COUNT(*) FROM trade_records;'",
        f"{APP}/{script}",
        f"ls -lh {APP}/logs/weekly_review_*.txt | tail -1",
        f"{PSQL} \"SELECT COUNT(*) as linked_trades FROM trade_strategy_link WHERE linked_at >= NOW() - INTERVAL '1 day';\"",
        f"{PSQL} \"SELECT snapshot_id, active_from, score_buy_target FROM strategy_snapshots WHERE active_until IS NULL;\"",
    ]


def concurrent(commands):
    """One connection, everything at once; the report file listing must follow the script."""
    others = " & ".join(f"( {c} )" for i, c in enumerate(commands) if i not in (5, 6))
    return f"{others} & ( {commands[5]} && {commands[6]} ) & wait"


def measure(config, commands, sequential_too, allowed=(0,), extra=()):
    verify = [BOTOPS, "verify", "--config", config, *extra]
    run(verify, allowed)  # warm caches
    botops, rss, seq, conc = [], [], [], []
    for _ in range(ROUNDS):
        elapsed, peak = run(verify, allowed)
        botops.append(elapsed)
        rss.append(peak)
        if sequential_too:
            seq.append(sum(run(SSH + [command])[0] for command in commands))
        conc.append(run(SSH + [concurrent(commands)])[0])
    return (statistics.median(botops), statistics.median(seq) if seq else None, statistics.median(conc), max(rss))


def main():
    require(BOTOPS)
    b, a, c, rss = measure(CONFIG, runbook(SCRIPT), sequential_too=True)
    print(f"botops verify               {b:7.1f} ms (median of {ROUNDS})")
    print(f"(a) nine sequential ssh     {a:7.1f} ms   speed-up {a / b:.2f}x  (target >= 3)   {verdict(a / b >= 3)}")
    print(f"(b) one ssh, concurrent     {c:7.1f} ms   ratio {b / c:.2f}x  (target <= 1.00)  {verdict(b <= c)}")
    print(f"peak RSS of botops verify   {rss:7.1f} MB   (target < 30)  {verdict(rss < 30)}")
    b, _, c, _ = measure(CONFIG, runbook(SCRIPT), sequential_too=False, extra=["--crontab-dir", SHIPPED_CRONTAB])
    print(f"with the shipped crontab.d  {b:7.1f} ms   ratio to (b) {c:7.1f} ms: {b / c:.2f}x  (target <= 1.00)  {verdict(b <= c)}")

    subprocess.run(SSH + [MAKE_SLOW], check=True)
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as config:
            config.write(open(CONFIG).read() + f"checks:\n  report_script: {SLOW_SCRIPT}\n")
            config.flush()
            # cron runs the shipped script, not this copy, so cron-scheduled fails: exit 1 is expected.
            b, _, c, _ = measure(config.name, runbook(SLOW_SCRIPT), sequential_too=False, allowed=(1,))
    finally:
        subprocess.run(SSH + [f"rm -f {APP}/{SLOW_SCRIPT}"], check=True)
    print(f"slow report script (3 x psql after a 0.25 s wait each):")
    print(f"botops verify               {b:7.1f} ms (median of {ROUNDS})")
    print(f"(b) one ssh, concurrent     {c:7.1f} ms   ratio {b / c:.2f}x  (target <= 1.00)  {verdict(b <= c)}")


if __name__ == "__main__":
    main()
