#!/usr/bin/env python3
"""Engine benchmarks against the sandbox's PostgreSQL, each next to a baseline from the same run.

  ingest-bars: 1,000,000 bars, bot-engine vs `psql \\copy` of the same file into the same indexed
               table (target: within 1.2x); then the same file again (every bar already stored)
  record:      100,000 fills (a backfill), bot-engine vs `psql \\copy` of the same rows into
               trade_records (targets: <= 2 s, re-recording the same file <= 1 s)
  FIFO:        Benchmarks/EngineBench, 1,000,000 fills allocated in memory (target < 1 s)

Every timed command is a whole process as a user runs it, on a fresh database each round.
"""
import os, statistics, subprocess, sys, tempfile, time
from urllib.parse import urlsplit, unquote
from common import BIN, STATE, require, verdict

ENGINE = f"{BIN}/bot-engine"
require(ENGINE, f"{BIN}/EngineBench")
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

subprocess.run([f"{BIN}/EngineBench", ADMIN_URL], check=True)
