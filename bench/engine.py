#!/usr/bin/env python3
"""Engine benchmarks against the sandbox's PostgreSQL, each next to a baseline from the same run.

  ingest-bars: 1,000,000 bars, bot-engine vs `psql \\copy` of the same file into the same indexed
               table (target: within 1.2x); then the same file again (every bar already stored)
  record:      100,000 fills (a backfill), bot-engine vs `psql \\copy` of the same rows into
               trade_records (targets: <= 2 s, re-recording the same file <= 1 s)
  FIFO:        Benchmarks/EngineBench, 1,000,000 fills allocated in memory (target < 1 s)
  bars prune:  2,000,000 one-minute bars, half older than a year, pruned with `--keep 1m=365d` while
               `ingest-bars` loads 100 new bars and one re-collected old one over and over: each
               ingest's time next to the same ingest with no prune running and the prune's batch
               time (target: no ingest held up longer than one batch). `bench/engine.py prune`
               runs this part alone.

Every timed command is a whole process as a user runs it, on a fresh database each round.
"""
import os, statistics, subprocess, sys, tempfile, time
from urllib.parse import urlsplit, unquote
from common import BIN, STATE, require, verdict

ENGINE = f"{BIN}/bot-engine"
ONLY_PRUNE = sys.argv[1:] == ["prune"]
require(ENGINE, *([] if ONLY_PRUNE else [f"{BIN}/EngineBench"]))
ADMIN_URL = next(line.split("=", 1)[1].strip() for line in open(f"{STATE}/sandbox.env") if line.startswith("SANDBOX_DATABASE_URL="))
ROUNDS = 3
BARS = 1_000_000
FILLS = 100_000


def environment(database):
    """libpq's PG* variables for `database`, so no password is ever on a command line or printed."""
    url = urlsplit(ADMIN_URL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k not in ("DATABASE_URL", "BOT_DATABASE_URL")}
    env.update(PGHOST=url.hostname, PGPORT=str(url.port), PGUSER=unquote(url.username),
               PGPASSWORD=unquote(url.password or ""), PGDATABASE=database)
    return env


def check(command, database, **kwargs):
    result = subprocess.run(command, env=environment(database), capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"{command[0]} failed: {result.stderr.strip()}")
    return result.stdout


def timed(command, database):
    start = time.perf_counter()
    check(command, database)
    return time.perf_counter() - start


def fresh_database(name):
    check(["psql", "-X", "-q", "-c", f"DROP DATABASE IF EXISTS {name}", "-c", f"CREATE DATABASE {name}"], "postgres")
    check([ENGINE, "migrate"], name)
    return name


def drop(name):
    check(["psql", "-X", "-q", "-c", f"DROP DATABASE IF EXISTS {name}"], "postgres")


def psql_copy(table, columns, path):
    return ["psql", "-X", "-q", "-c", f"\\copy {table} ({columns}) FROM '{path}' WITH (FORMAT csv, HEADER true)"]


def write_bars(path):
    start_epoch = 1_735_689_600
    with open(path, "w") as out:
        out.write("symbol,timeframe,ts,open,high,low,close,volume\n")
        for index in range(BARS):
            ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start_epoch + (index % 100_000) * 60))
            price = 100 + index % 97
            out.write(f"SYM{index // 100_000}-USD,1m,{ts},{price},{price + 1},{price - 1},{price}.5,{index % 1000}\n")


def write_fills(path):
    with open(path, "w") as out:
        out.write("order_id,symbol,side,order_time,price,size,fees,status,execution_mode\n")
        for index in range(FILLS):
            side = "buy" if (index // 20) % 5 < 3 else "sell"
            ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_700_000_000 + index * 7))
            out.write(f"f{index:07d},S{index % 20}-USD,{side},{ts},{1000 + index % 997}.25,{1 + index % 13}.5,0.{index % 100:02d},filled,LIVE\n")


def median(values):
    return statistics.median(values)


def prune_benchmark():
    """Ingest latency while `bars prune` deletes about a million bars in batches."""
    name, batch = f"engine_bench_prune_{os.getpid()}", 10_000
    symbols = 4
    with tempfile.TemporaryDirectory() as directory:
        def ingest_file(round_index):
            # 100 bars newer than any stored one, and one bar of the year being pruned (re-collected).
            path = f"{directory}/ingest-{round_index}.csv"
            now = int(time.time()) // 60 * 60
            with open(path, "w") as out:
                out.write("symbol,timeframe,ts,open,high,low,close,volume\n")
                for index in range(100):
                    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + (round_index * 100 + index + 1) * 60))
                    out.write(f"SYM{index % symbols}-USD,1m,{ts},1,2,0.5,1.5,{index}\n")
                old = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - (400 + round_index % 300) * 86400))
                out.write(f"SYM{round_index % symbols}-USD,1m,{old},1,2,0.5,1.5,7\n")
            return path

        try:
            fresh_database(name)
            check(["psql", "-X", "-q", "-c", f"""
                INSERT INTO market_bars (symbol, timeframe, ts, open, high, low, close, volume)
                SELECT 'SYM' || s || '-USD', '1m', date_trunc('minute', now()) - i * interval '1 minute' * 2 * 365 * 1440 / 500000, 1, 1, 1, 1, 1
                FROM generate_series(0, {symbols - 1}) s, generate_series(1, 500000) i""", "-c", "VACUUM ANALYZE market_bars"], name)
            quiet = [timed([ENGINE, "ingest-bars", ingest_file(index)], name) for index in range(20)]
            started = time.perf_counter()
            prune = subprocess.Popen([ENGINE, "bars", "prune", "--keep", "1m=365d", "--batch-size", str(batch)],
                                     env=environment(name), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            during, index = [], 20
            while prune.poll() is None and index < 10_000:
                during.append(timed([ENGINE, "ingest-bars", ingest_file(index)], name))
                index += 1
            output, errors = prune.communicate()
            elapsed = time.perf_counter() - started
            if prune.returncode != 0:
                sys.exit(f"bars prune failed: {errors.strip()}")
            deleted = int(output.strip().splitlines()[-1].split()[1])
        finally:
            drop(name)
    batches = max(1, -(-deleted // batch) + symbols)
    per_batch = elapsed / batches
    held = max(during) - median(quiet) if during else 0
    print(f"bars prune   {deleted:,} of {symbols * 500_000:,} bars deleted in {elapsed:.2f} s, {batches} batches of <= {batch:,} "
          f"({per_batch * 1000:.0f} ms a batch)")
    print(f"             ingest-bars (101 bars) during the prune: {len(during)} runs, median {median(during) * 1000 if during else 0:.0f} ms, "
          f"max {max(during) * 1000 if during else 0:.0f} ms; with no prune: median {median(quiet) * 1000:.0f} ms")
    print(f"             longest hold-up {held * 1000:.0f} ms vs one batch {per_batch * 1000:.0f} ms "
          f"(target <= one batch: {verdict(held <= per_batch)})")


if ONLY_PRUNE:
    prune_benchmark()
    sys.exit(0)

with tempfile.TemporaryDirectory() as directory:
    bars_path, fills_path = f"{directory}/bars.csv", f"{directory}/fills.csv"
    write_bars(bars_path)
    write_fills(fills_path)
    bar_columns = "symbol, timeframe, ts, open, high, low, close, volume"
    fill_columns = "order_id, symbol, side, order_time, price, size, fees, status, execution_mode"
    base, ours = f"engine_bench_psql_{os.getpid()}", f"engine_bench_ours_{os.getpid()}"

    psql_bars, engine_bars, engine_bars_again = [], [], []
    psql_fills, engine_fills, engine_fills_again = [], [], []
    try:
        # Alternate the two in every round, so machine noise hits both alike.
        for _ in range(ROUNDS):
            psql_bars.append(timed(psql_copy("market_bars", bar_columns, bars_path), fresh_database(base)))
            engine_bars.append(timed([ENGINE, "ingest-bars", bars_path], fresh_database(ours)))
            engine_bars_again.append(timed([ENGINE, "ingest-bars", bars_path], ours))
            psql_fills.append(timed(psql_copy("trade_records", fill_columns, fills_path), fresh_database(base)))
            engine_fills.append(timed([ENGINE, "record", fills_path], fresh_database(ours)))
            engine_fills_again.append(timed([ENGINE, "record", fills_path], ours))
            stored = check(["psql", "-X", "-At", "-c", "SELECT count(*) FROM trade_records"], ours).strip()
            if stored != str(FILLS):
                sys.exit(f"record stored {stored} fills, expected {FILLS}")
    finally:
        drop(base)
        drop(ours)

    bars_ratio = median(engine_bars) / median(psql_bars)
    print(f"medians of {ROUNDS} rounds, each a fresh database (whole processes)")
    print(f"ingest-bars  {BARS:,} bars           bot-engine {median(engine_bars):6.2f} s   psql \\copy {median(psql_bars):6.2f} s"
          f"   ratio {bars_ratio:.2f}x (target <= 1.2x: {verdict(bars_ratio <= 1.2)})")
    print(f"             again, all stored          bot-engine {median(engine_bars_again):6.2f} s   (staging merge, replaces changed bars)")
    print(f"record       {FILLS:,} fills            bot-engine {median(engine_fills):6.2f} s   psql \\copy {median(psql_fills):6.2f} s"
          f"   ratio {median(engine_fills) / median(psql_fills):.2f}x (target <= 2 s: {verdict(median(engine_fills) <= 2)})")
    print(f"             again, all present         bot-engine {median(engine_fills_again):6.2f} s"
          f"   ratio {median(engine_fills_again) / median(psql_fills):.2f}x (target <= 1 s: {verdict(median(engine_fills_again) <= 1)})")

prune_benchmark()
subprocess.run([f"{BIN}/EngineBench", ADMIN_URL], check=True)
