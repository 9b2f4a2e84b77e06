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
import os, statistics, subprocess, sys, tempfile, threading, time
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
    """Ingest latency while about a million bars are deleted: by `bars prune` in batches, and, for
    contrast, by one plain DELETE. Each ingest re-collects a bar that is being deleted, so it must
    wait for the transaction deleting it: one batch, or the whole DELETE."""
    name, batch, symbols = f"engine_bench_prune_{os.getpid()}", 10_000, 4
    cutoff = "now() - interval '365 days'"

    def load():
        fresh_database(name)
        check(["psql", "-X", "-q", "-c", f"""
            INSERT INTO market_bars (symbol, timeframe, ts, open, high, low, close, volume)
            SELECT 'SYM' || s || '-USD', '1m', date_trunc('minute', now()) - i * interval '126 seconds', 1, 1, 1, 1, 1
            FROM generate_series(0, {symbols - 1}) s, generate_series(1, 500000) i""", "-c", "VACUUM ANALYZE market_bars"], name)
        # Stored bars both deletions take first (the first symbol's), for the ingests to re-collect.
        return check(["psql", "-X", "-At", "-c", f"""
            SELECT symbol || ',' || to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM market_bars
            WHERE symbol = 'SYM0-USD' AND ts < {cutoff} ORDER BY random() LIMIT 2000"""], name).split()

    def ingest_file(directory, round_index, old_bars):
        path = f"{directory}/ingest-{round_index}.csv"
        now = int(time.time()) // 60 * 60
        with open(path, "w") as out:
            out.write("symbol,timeframe,ts,open,high,low,close,volume\n")
            for index in range(100):
                ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + (round_index * 100 + index + 1) * 60))
                out.write(f"SYM{index % symbols}-USD,1m,{ts},1,2,0.5,1.5,{index}\n")
            symbol, ts = old_bars[round_index % len(old_bars)].split(",")
            out.write(f"{symbol},1m,{ts},1,2,0.5,1.5,7\n")
        return path

    def ingest_while(directory, deleter, old_bars, first_round):
        """Ingests while `deleter` runs; returns its time, the ingests' times, its output and the
        longest an ingest statement was seen waiting on a lock (sampled every few ms by one psql)."""
        sampler = subprocess.Popen(["psql", "-X", "-At"], env=environment(name), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True, bufsize=1)
        longest_wait = [0.0]
        sampling = threading.Event()

        def sample():
            while not sampling.is_set():
                sampler.stdin.write("SELECT coalesce(max(extract(epoch FROM clock_timestamp() - query_start)), 0) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ~ '^(COPY|INSERT INTO) market_bars';\n")
                longest_wait[0] = max(longest_wait[0], float(sampler.stdout.readline()))
                time.sleep(0.002)

        thread = threading.Thread(target=sample)
        thread.start()
        started = time.perf_counter()
        process = subprocess.Popen(deleter, env=environment(name), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        during, index = [], first_round
        while process.poll() is None and index < first_round + 5_000:
            during.append(timed([ENGINE, "ingest-bars", ingest_file(directory, index, old_bars)], name))
            index += 1
        output, errors = process.communicate()
        elapsed = time.perf_counter() - started
        sampling.set()
        thread.join()
        sampler.stdin.close()
        sampler.wait()
        if process.returncode != 0:
            sys.exit(f"{deleter[0]} failed: {errors.strip()}")
        return elapsed, during, output, longest_wait[0]

    with tempfile.TemporaryDirectory() as directory:
        try:
            old_bars = load()
            quiet = [timed([ENGINE, "ingest-bars", ingest_file(directory, index, old_bars)], name) for index in range(20)]
            elapsed, during, output, waited = ingest_while(
                directory, [ENGINE, "bars", "prune", "--keep", "1m=365d", "--batch-size", str(batch)], old_bars, 20)
            deleted = int(output.strip().splitlines()[-1].split()[1])
            old_bars = load()
            plain_elapsed, plain_during, _, plain_waited = ingest_while(
                directory, ["psql", "-X", "-q", "-c", f"DELETE FROM market_bars WHERE timeframe = '1m' AND ts < {cutoff}"], old_bars, 10_000)
        finally:
            drop(name)
    batches = -(-deleted // batch) + symbols
    per_batch = elapsed / batches
    print(f"bars prune   {deleted:,} of {symbols * 500_000:,} bars deleted in {elapsed:.2f} s, {batches} batches of <= {batch:,} "
          f"({per_batch * 1000:.0f} ms a batch)")
    print(f"             ingest-bars (100 new bars + 1 being deleted): no prune median {median(quiet) * 1000:.0f} ms; during the prune "
          f"{len(during)} runs, median {median(during) * 1000:.0f} ms, max {max(during) * 1000:.0f} ms")
    print(f"             longest lock wait of an ingest statement {waited * 1000:.0f} ms = {waited / per_batch:.1f} batches "
          f"(target <= one batch: {verdict(waited <= per_batch)}); the rest of the slowdown is the two cores shared")
    print(f"             contrast, one plain DELETE ({plain_elapsed:.2f} s): {len(plain_during)} ingests, max {max(plain_during) * 1000:.0f} ms, "
          f"longest lock wait {plain_waited * 1000:.0f} ms")


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
