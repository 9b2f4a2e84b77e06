#!/usr/bin/env python3
"""Backtest benchmarks (issue 10), each beside a baseline measured in the same run.

  1. simulation core, SMA 10/50 with fees and per-bar mark-to-market: target >= 50 M bars/s
     (Benchmarks/BacktestBench; baselines: a plain sum over the same closes, the SMA alone)
  2. `bot-engine backtest run` end to end on 3,276 bars (read, simulate, persist): target <= 25 ms
     plus process start (/bin/true), and >= 100x faster than backtesting.py 0.6.6 running the
     same strategy on the same bars (timed inside Python, imports and data loading excluded);
     the like-for-like figure is Backtest.run in memory (BacktestBench) against that
  3. `bot-engine backtest run` on 1,000,000 bars end to end: target <= 1 s

Needs the sandbox's PostgreSQL (scripts/sandbox up), the backtesting.py venv (scripts/backtest-venv)
and the release build (see common.BUILD).
"""
import csv, io, json, os, statistics, subprocess, sys, tempfile
from common import BIN, STATE, interleaved, require, run, verdict

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = os.environ.get("BOTOPS_BACKTESTING_PYTHON", f"{ROOT}/.build/backtesting-venv/bin/python3")
ENGINE = f"{BIN}/bot-engine"


def psql(url, sql):
    subprocess.run(["psql", "-q", url, "-c", sql], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    require(ENGINE, f"{BIN}/BacktestBench")
    if not os.access(PYTHON, os.X_OK):
        sys.exit(f"{PYTHON} missing: run scripts/backtest-venv first")
    core = subprocess.run([f"{BIN}/BacktestBench"], check=True, capture_output=True, text=True).stdout
    print(core, end="")
    in_memory_ms = next(float(line.split()[-4]) for line in core.splitlines() if "in memory, 3276 bars" in line)

    admin = next(line.split("=", 1)[1].strip() for line in open(f"{STATE}/sandbox.env") if line.startswith("SANDBOX_DATABASE_URL="))
    name = f"backtest_bench_{os.getpid()}"
    url = admin.rsplit("/", 1)[0] + "/" + name
    psql(admin, f"DROP DATABASE IF EXISTS {name}")
    psql(admin, f"CREATE DATABASE {name}")
    try:
        db = ["--database-url", url]
        subprocess.run([ENGINE, "migrate", *db], check=True, stdout=subprocess.DEVNULL)
        # 58 calendar days from 2025-09-10: 42 weekdays of 78 five-minute bars = 3,276 bars.
        generate = ["bars", "generate", "--symbols", "SPY", "--days", "58", "--seed", "42"]
        subprocess.run([ENGINE, *generate, *db], check=True, stdout=subprocess.DEVNULL)
        backtest = [ENGINE, "backtest", "run", "sma-cross", "--param", "fast=10", "--param", "slow=50", "--symbol", "SPY",
                    "--start", "2025-09-10", "--end", "2025-11-06", "--commission", "0.001", *db]
        out = subprocess.run(backtest, check=True, capture_output=True, text=True).stdout
        assert "3276 bars" in out, out
        run(backtest)  # warm caches
        engine_ms, true_ms = interleaved(lambda: run(backtest)[0], lambda: run(["/bin/true"])[0], ROUNDS)
        overhead = engine_ms - true_ms
        print(f"backtest run, 3,276 bars   {engine_ms:7.1f} ms   /bin/true {true_ms:5.1f} ms   "
              f"run minus process start {overhead:5.1f} ms  (target <= 25 ms)  {verdict(overhead <= 25)}")
        # Where the time goes: bot-engine's own start (it links libpq and its Kerberos/LDAP/TLS
        # libraries), then start + connect (SCRAM authentication) + one query.
        help_ms, list_ms = interleaved(lambda: run([ENGINE, "--help"])[0],
                                       lambda: run([ENGINE, "backtest", "list", "--limit", "1", *db])[0], ROUNDS)
        print(f"  of which: bot-engine --help {help_ms:5.1f} ms; backtest list (start + connect + a query) {list_ms:5.1f} ms; "
              f"so the backtest itself (read, simulate, store, print) {engine_ms - list_ms:5.1f} ms")

        reference_ms = backtesting_py(generate)
        ratio = reference_ms / engine_ms
        print(f"backtesting.py 0.6.6, same bars and strategy, in-process {reference_ms:7.1f} ms per run")
        print(f"  vs bot-engine backtest run, whole process {engine_ms:7.1f} ms: {ratio:5.1f}x faster  (target >= 100x)  {verdict(ratio >= 100)}")
        memory_ratio = reference_ms / in_memory_ms
        print(f"  vs Backtest.run in memory (like for like) {in_memory_ms:7.3f} ms: {memory_ratio:5.0f}x faster  (target >= 100x)  {verdict(memory_ratio >= 100)}")

        # About 1,000,000 one-minute bars: 2,565 weekdays of 390 from 2015-01-01.
        big = ["bars", "generate", "--symbols", "BIG", "--timeframe", "1m", "--start", "2015-01-01", "--days", "3590", "--seed", "1"]
        loaded = subprocess.run([ENGINE, *big, *db], check=True, capture_output=True, text=True).stdout
        large = [ENGINE, "backtest", "run", "sma-cross", "--symbol", "BIG", "--timeframe", "1m", "--start", "2015-01-01",
                 "--end", "2025-01-01", "--commission", "0.001", *db]
        run(large)
        times = [run(large)[0] for _ in range(max(3, ROUNDS // 3))]
        big_ms = statistics.median(times)
        print(f"backtest run, {loaded.split()[1]} bars   {big_ms:7.1f} ms  (target <= 1000 ms)  {verdict(big_ms <= 1000)}")
    finally:
        psql(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def backtesting_py(generate):
    """backtesting.py on the bars `bot-engine bars generate` makes (the same generator, same seed)."""
    text = subprocess.run([ENGINE, *generate, "--csv"], check=True, capture_output=True, text=True).stdout
    with tempfile.TemporaryDirectory() as directory:
        bars = os.path.join(directory, "bars.csv")
        with open(bars, "w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["ts", "open", "high", "low", "close", "volume", "close_units"])
            for row in csv.DictReader(io.StringIO(text)):
                ts = epoch(row["ts"])
                units = int(round(float(row["close"]) * 100)) * 1_000_000
                writer.writerow([ts, row["open"], row["high"], row["low"], row["close"], row["volume"], units])
        spec = os.path.join(directory, "spec.json")
        json.dump({"strategy": "sma-cross", "params": {"fast": 10, "slow": 50, "pandas": True}, "cash": 10000,
                   "commission": {"rate": 0.001}, "repeat": max(3, ROUNDS // 3)}, open(spec, "w"))
        out = subprocess.run([PYTHON, f"{ROOT}/scripts/backtest-reference.py", bars, spec], check=True, capture_output=True, text=True).stdout
        return json.loads(out)["seconds"] * 1000


def epoch(iso):
    from datetime import datetime, timezone
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


if __name__ == "__main__":
    main()
