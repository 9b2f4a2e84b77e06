#!/usr/bin/env python3
"""Backup benchmark on the sandbox host, ratios measured in one run.

A scratch database `botops_bench` in the db container gets a ledger table of ROWS rows; then
  1. `botops backup --no-verify` (dump + figures from one snapshot)  vs  `docker exec db pg_dump -Fc > file` by hand;
  2. `botops restore ID --test` (throwaway server, restore, figures) vs  `createdb` + `pg_restore` into a fresh database by hand;
  3. botops' own peak RSS in each, and in a verified backup (os.wait4 of botops alone: no docker CLI, no shell).
Targets: 1. <= 1.2x, 2. <= 2x, 3. < 30 MB. Then, to show where the time goes, the phases run
alone by hand: the figures query, a throwaway server's start and removal, the checks.
The scratch database is dropped at the end.
Like for like: one build (the shipped release build, common.BUILD, unless BOTOPS=PATH), each
round runs botops and its hand baseline back to back (which goes first alternates), a ratio is
taken per round against the baseline of the same round, and the median ratio is shown with the
rounds' spread (min-max) and the load average before and after.
Run as root after `swift build -c release --static-swift-stdlib`: bench/backup.py [ROWS [RUNS]]
(default 1,000,000 rows, 5 rounds). Takes the sandbox lock.
BEFORE=PATH runs another build's backup and restore --test in the same rounds, each right beside this one's.
"""

import fcntl, os, shutil, statistics, subprocess, sys, tempfile, time

from common import BOTOPS, load_average, require, spread

BOTOPS = os.environ.get("BOTOPS", BOTOPS)  # another build to measure
BEFORE = os.environ.get("BEFORE")  # an earlier build, measured in the same rounds
SANDBOX_CONFIG = "/var/lib/botops-sandbox/botops.yml"
ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
DB = "botops_bench"
FIGURES = ("SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint), 0)"
           " FROM trade_records t")


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, **kw)


def psql(db, sql):
    sh(f"docker exec db psql -X -q -v ON_ERROR_STOP=1 -U bot_user -d {db} -c \"{sql}\"")


def timed(cmd):
    start = time.monotonic()
    sh(cmd, stdout=subprocess.PIPE)
    return time.monotonic() - start


def botops(*args, binary=None):
    """Wall time and peak RSS (MB) of botops itself."""
    start = time.monotonic()
    process = subprocess.Popen([binary or BOTOPS, *args], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"botops {' '.join(args)} failed with status {os.waitstatus_to_exitcode(status)}")
    return time.monotonic() - start, usage.ru_maxrss / 1024


def settle():
    """Waits, untimed, until no throwaway server is left: a finished verification leaves its server's
    removal to dockerd (`--rm`), which would otherwise run inside the next command timed."""
    sh("while docker ps -aq --filter name=botops-verify | grep -q .; do sleep 0.05; done")


def main():
    require(BOTOPS, *([BEFORE] if BEFORE else []))
    lock = open("/tmp/botops-sandbox.lock", "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    work = tempfile.mkdtemp(prefix="botops-bench-")
    shutil.chown(work, "bot", "bot")
    try:
        sh(f"docker exec db dropdb -U bot_user --if-exists {DB} && docker exec db createdb -U bot_user {DB}")
        psql(DB, "CREATE TABLE trade_records (order_id text PRIMARY KEY, symbol text, side text, order_time timestamptz,"
                 " price numeric(20,8), size numeric(20,8), fees numeric(20,8))")
        psql(DB, f"INSERT INTO trade_records SELECT 'o' || i, 'BTC-USD', CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END,"
                 f" timestamptz '2025-01-01' + i * interval '1 minute', 40000 + i % 1000, 0.01 * (i % 7 + 1), 0.1"
                 f" FROM generate_series(1, {ROWS}) i")
        psql(DB, "VACUUM ANALYZE trade_records")
        config = os.path.join(work, "botops.yml")
        with open(SANDBOX_CONFIG) as f:
            text = f.read().replace("name: bot_trader_db", f"name: {DB}")
        with open(config, "w") as f:
            f.write(text + f"backup:\n  dir: {work}/backups\n  min_free_disk: 0\n")

        load = load_average()
        hand_dump = f"su bot -c 'docker exec db pg_dump -Fc -U bot_user -d {DB} > {work}/by-hand.dump'"
        hand_restore = (f"docker exec db dropdb -U bot_user --if-exists {DB}_restore && docker exec db createdb -U bot_user {DB}_restore && "
                        f"docker exec -i db pg_restore -U bot_user -d {DB}_restore < {work}/by-hand.dump")
        # Per round, in the order run: each command's seconds, keyed by what it is.
        rounds, backup_rss, restore_rss = [], [], []
        for run in range(RUNS):
            times = {}

            def backups():
                if BEFORE:
                    times["before backup"] = botops("backup", "--no-verify", "--format", "json", "--config", config, binary=BEFORE)[0]
                times["backup"], rss = botops("backup", "--no-verify", "--format", "json", "--config", config)
                backup_rss.append(rss)

            def restores():
                backup_id = sorted(n for n in os.listdir(work + "/backups") if n.endswith(".dump"))[-1][:-5]

                def this():
                    times["restore"], rss = botops("restore", backup_id, "--test", "--config", config)
                    restore_rss.append(rss)
                    settle()

                def before():
                    times["before restore"] = botops("restore", backup_id, "--test", "--config", config, binary=BEFORE)[0]
                    settle()
                # With BEFORE, which build goes first alternates too (the second reads a warmer cache).
                for step in ([before, this] if run % 2 == 0 else [this, before]) if BEFORE else [this]:
                    step()

            # Which of a pair goes first alternates, so a drift in the machine's load hits both alike.
            if run % 2 == 0:
                backups(); times["pg_dump"] = timed(hand_dump)
                times["pg_restore"] = timed(hand_restore); restores()
            else:
                times["pg_dump"] = timed(hand_dump); backups()
                restores(); times["pg_restore"] = timed(hand_restore)
            rounds.append(times)
        dump = sorted(n for n in os.listdir(work + "/backups") if n.endswith(".dump"))[-1]
        size = os.path.getsize(os.path.join(work, "backups", dump))
        hand_size = os.path.getsize(os.path.join(work, "by-hand.dump"))
        _, verified_rss = botops("backup", "--config", config)  # with the throwaway restore and retention
        load_after = load_average()

        def ratios(ours, baseline):
            return [r[ours] / r[baseline] for r in rounds]

        def seconds(key):
            return spread([r[key] for r in rounds])

        # The phases alone, by hand, to show where the time goes.
        figures = timed(f"docker exec db psql -X -A -t -U bot_user -d {DB} -c \"{FIGURES}\"")
        image = sh("docker inspect --format '{{.Image}}' db", stdout=subprocess.PIPE, text=True).stdout.strip()
        start = timed(f"docker run -d --rm --name botops-bench-server --network none --user postgres --entrypoint /bin/sh {image}"
                      " -c 'initdb -N -D /tmp/pgdata -A trust >/dev/null && exec postgres -D /tmp/pgdata -c listen_addresses= -k /tmp'"
                      " && docker exec botops-bench-server sh -c 'until pg_isready -q -h /tmp; do sleep 0.05; done'")
        removal = timed("docker rm -f botops-bench-server")
        # The same start from a tar of an initialised data directory, as botops keeps one per image.
        template = os.path.join(work, "template.tar")
        sh(f"docker run --rm --network none --user postgres --entrypoint /bin/sh {image}"
           f" -c 'initdb -N -D /tmp/pgdata -A trust >/dev/null && tar -C /tmp -cf - pgdata' > {template} && chmod 644 {template}")
        unpacked = timed(f"docker run -d --rm --name botops-bench-server --network none --user postgres --entrypoint /bin/sh"
                         f" --mount type=bind,source={template},target=/tmp/t.tar,readonly {image}"
                         " -c 'tar -xf /tmp/t.tar -C /tmp && exec postgres -D /tmp/pgdata -c listen_addresses= -k /tmp'"
                         " && docker exec botops-bench-server sh -c 'until pg_isready -q -h /tmp; do sleep 0.05; done'")
        sh("docker rm -f botops-bench-server >/dev/null")
        checksum = timed(f"sha256sum {work}/by-hand.dump")
        toc = timed(f"docker exec -i db pg_restore --list < {work}/by-hand.dump")

        print(f"{BOTOPS}, rows {ROWS}, {RUNS} rounds, dump {size / 1e6:.1f} MB (by hand {hand_size / 1e6:.1f} MB),"
              f" {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
        print(f"load average (1/5/15 min) {load} before, {load_after} after; figures: median (min-max) over the rounds")
        print(f"backup --no-verify  {seconds('backup')} s   pg_dump -Fc by hand {seconds('pg_dump')} s"
              f"   ratio per round {spread(ratios('backup', 'pg_dump'))} (target <= 1.2)")
        print(f"restore --test      {seconds('restore')} s   pg_restore by hand  {seconds('pg_restore')} s"
              f"   ratio per round {spread(ratios('restore', 'pg_restore'))} (target <= 2)")
        print(f"peak RSS of botops: backup --no-verify {max(backup_rss):.1f} MB, restore --test {max(restore_rss):.1f} MB,"
              f" backup (verified, retention) {verified_rss:.1f} MB (target < 30)")
        if BEFORE:
            print(f"before ({BEFORE}): backup {seconds('before backup')} s, ratio {spread(ratios('before backup', 'pg_dump'))};"
                  f" restore --test {seconds('before restore')} s, ratio {spread(ratios('before restore', 'pg_restore'))};"
                  f" this build / before, per round: backup {spread(ratios('backup', 'before backup'))},"
                  f" restore --test {spread(ratios('restore', 'before restore'))}")
        print(f"phases alone: figures query {figures:.2f} s, throwaway server start {start:.2f} s (from a kept template: {unpacked:.2f} s) and removal {removal:.2f} s,"
              f" sha256 {checksum:.2f} s, pg_restore --list {toc:.2f} s")
    finally:
        subprocess.run("docker rm -f botops-bench-server >/dev/null 2>&1", shell=True)
        subprocess.run(f"docker exec db dropdb -U bot_user --if-exists {DB}_restore; docker exec db dropdb -U bot_user --if-exists {DB}", shell=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
