#!/usr/bin/env python3
"""Backup benchmark on the sandbox host, ratios measured in one run.

A scratch database `botops_bench` in the db container gets a ledger table of ROWS rows; then
  1. `botops backup --no-verify` (dump + figures from one snapshot)  vs  `docker exec db pg_dump -Fc > file` by hand;
  2. `botops restore ID --test` (throwaway server, restore, figures) vs  `pg_restore` into a fresh database by hand;
  3. botops' own peak RSS in each, and in a verified backup (os.wait4 of botops alone: no docker CLI, no shell).
Targets: 1. <= 1.2x, 2. <= 2x, 3. < 30 MB. Then, to show where the time goes, the phases run
alone by hand: the figures query, a throwaway server's start and removal, the checks.
The scratch database is dropped at the end.
Each pair runs RUNS times (default 3), alternating botops and the hand command; medians are shown.
Run as root after `swift build -c release --static-swift-stdlib`: bench/backup.py [ROWS [RUNS]]. Takes the sandbox lock.
BEFORE=PATH runs another build's backup and restore --test in the same rounds, each right before this one's.
"""
import fcntl, os, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOTOPS = os.path.join(ROOT, ".build", "debug", "botops")
if os.path.exists(os.path.join(ROOT, ".build", "release", "botops")):
    BOTOPS = os.path.join(ROOT, ".build", "release", "botops")
BOTOPS = os.environ.get("BOTOPS", BOTOPS)  # another build to compare
BEFORE = os.environ.get("BEFORE")  # an earlier build, measured in the same rounds
SANDBOX_CONFIG = "/var/lib/botops-sandbox/botops.yml"
ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
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


def main():
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

        load = os.getloadavg()[0]
        backups, by_hands, verifies, restores_by_hand, backup_rss, restore_rss = [], [], [], [], [], []
        before_backups, before_verifies = [], []
        for run in range(RUNS):
            if BEFORE:
                before_backups.append(botops("backup", "--no-verify", "--format", "json", "--config", config, binary=BEFORE)[0])
            ours, rss = botops("backup", "--no-verify", "--format", "json", "--config", config)
            backups.append(ours); backup_rss.append(rss)
            by_hands.append(timed(f"su bot -c 'docker exec db pg_dump -Fc -U bot_user -d {DB} > {work}/by-hand.dump'"))
            dump = sorted(n for n in os.listdir(work + "/backups") if n.endswith(".dump"))[-1]
            backup_id = dump[:-5]
            if BEFORE:
                before_verifies.append(botops("restore", backup_id, "--test", "--config", config, binary=BEFORE)[0])
            verify, rss = botops("restore", backup_id, "--test", "--config", config)
            verifies.append(verify); restore_rss.append(rss)
            restores_by_hand.append(timed(f"docker exec db dropdb -U bot_user --if-exists {DB}_restore && docker exec db createdb -U bot_user {DB}_restore && "
                                          f"docker exec -i db pg_restore -U bot_user -d {DB}_restore < {work}/by-hand.dump"))
        ours, by_hand = statistics.median(backups), statistics.median(by_hands)
        verify, restore_by_hand = statistics.median(verifies), statistics.median(restores_by_hand)
        size = os.path.getsize(os.path.join(work, "backups", dump))
        hand_size = os.path.getsize(os.path.join(work, "by-hand.dump"))
        _, verified_rss = botops("backup", "--config", config)  # with the throwaway restore and retention
        load_after = os.getloadavg()[0]

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

        print(f"rows {ROWS}, {RUNS} runs (medians), dump {size / 1e6:.1f} MB (by hand {hand_size / 1e6:.1f} MB),"
              f" load average {load:.1f} before, {load_after:.1f} after, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
        print(f"backup (dump + figures)   {ours:7.2f} s   by hand pg_dump -Fc {by_hand:7.2f} s   ratio {ours / by_hand:.2f} (target <= 1.2)"
              f"   per run: {', '.join(f'{a / b:.2f}' for a, b in zip(backups, by_hands))}")
        print(f"restore --test            {verify:7.2f} s   by hand pg_restore   {restore_by_hand:7.2f} s   ratio {verify / restore_by_hand:.2f} (target <= 2)"
              f"   per run: {', '.join(f'{a / b:.2f}' for a, b in zip(verifies, restores_by_hand))}")
        print(f"peak RSS of botops: backup --no-verify {max(backup_rss):.1f} MB, restore --test {max(restore_rss):.1f} MB,"
              f" backup (verified, retention) {verified_rss:.1f} MB (target < 30)")
        if BEFORE:
            print(f"before ({BEFORE}): backup {statistics.median(before_backups):7.2f} s, ratio {statistics.median(before_backups) / by_hand:.2f}"
                  f" (per run: {', '.join(f'{a / b:.2f}' for a, b in zip(before_backups, by_hands))});"
                  f" restore --test {statistics.median(before_verifies):7.2f} s, ratio {statistics.median(before_verifies) / restore_by_hand:.2f}"
                  f" (per run: {', '.join(f'{a / b:.2f}' for a, b in zip(before_verifies, restores_by_hand))})")
        print(f"phases alone: figures query {figures:.2f} s, throwaway server start {start:.2f} s (from a kept template: {unpacked:.2f} s) and removal {removal:.2f} s,"
              f" sha256 {checksum:.2f} s, pg_restore --list {toc:.2f} s")
    finally:
        subprocess.run("docker rm -f botops-bench-server >/dev/null 2>&1", shell=True)
        subprocess.run(f"docker exec db dropdb -U bot_user --if-exists {DB}_restore; docker exec db dropdb -U bot_user --if-exists {DB}", shell=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
