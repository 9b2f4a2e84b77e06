#!/usr/bin/env python3
"""botops recover vs the runbook's emergency recovery by hand, as a ratio measured in one run.

Each round breaks the sandbox the same way twice (a query file deleted, the report script's
executable bit gone, `crontab -r`, the db container stopped) and repairs it once each way:
  by hand: one ssh connection running, one after the other, the runbook's six "Emergency Recovery"
  commands (git reset --hard to the remote branch, the crontab line rewritten, chmod +x, compose
  up -d db plus a wait until it answers, the report script, the newest report) and then its nine
  verification commands.
  botops recover --yes: target <= 1.5x by hand.
The crontab and logs/ are put back as they were after every repair (outside the timing).

It changes the shared sandbox host, so it takes /tmp/botops-sandbox.lock for the whole run (as
the sandbox tests do). Needs the sandbox (scripts/sandbox up) and the release build (see
common.BUILD); BOTOPS_BIN picks another botops binary.
"""
import base64, fcntl, os, shutil, statistics, subprocess, sys, tempfile
from common import BOTOPS, CONFIG, SSH, require, run, verdict
from verify import APP, SCRIPT, runbook

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BINARY = os.environ.get("BOTOPS_BIN", BOTOPS)
REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
STATE = "~/.botops-bench-recover"
CRON_LINE = f"0 9 * * 1 {APP}/{SCRIPT} >> {APP}/logs/weekly_review_cron.log 2>&1"

BREAK = (f"cd {APP} && rm queries/weekly_signal_quality.sql && chmod -x {SCRIPT} && crontab -r "
         "&& docker stop db >/dev/null")

SIX = [
    f"cd {APP} && git fetch -q && git reset -q --hard origin/main",
    f"{{ crontab -l 2>/dev/null | grep -v weekly; echo '{CRON_LINE}'; }} | crontab -",
    f"chmod +x {APP}/{SCRIPT}",
    f"cd {APP} && docker-compose --env-file .env -f docker-compose.aws.yml up -d db"
    " && until docker exec db pg_isready -q -U bot_user -d bot_trader_db; do sleep 0.2; done",
    f"{APP}/{SCRIPT}",
    f"ls -lh {APP}/logs/weekly_review_*.txt | tail -1",
]


def sh(script):
    return subprocess.run(SSH + [script], check=True, capture_output=True, text=True).stdout


def main():
    require(BINARY)
    lock = open("/tmp/botops-sandbox.lock", "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    if sh(f"cd {APP} && git fetch -q && git rev-parse HEAD origin/main | uniq | wc -l").strip() != "1" or sh(f"cd {APP} && git status --porcelain").strip():
        sys.exit(f"{APP} is not clean at origin/main: the runbook's git reset --hard would lose something; not run")
    crontab = base64.b64encode(sh("crontab -l").encode()).decode()
    sh(f"rm -rf {STATE}/logs-before && mkdir -p {STATE} && cp -a {APP}/logs {STATE}/logs-before")
    work = tempfile.mkdtemp()
    try:
        config = os.path.join(work, "botops.yml")
        with open(config, "w") as out:
            out.write(open(CONFIG).read() + f"state_dir: {STATE}\n")
        crontab_dir = os.path.join(work, "crontab.d")
        os.mkdir(crontab_dir)
        shutil.copy(os.path.join(REPO, "crontab.d", "weekly-strategy-review.cron"), crontab_dir)
        recover = [BINARY, "recover", "--config", config, "--crontab-dir", crontab_dir, "--yes", "--format", "json"]
        by_hand = " && ".join(f"( {c} )" for c in SIX) + " && " + "; ".join(f"( {c} )" for c in runbook(SCRIPT))

        def put_back():
            sh(f"printf '%s' {crontab} | base64 -d | crontab - && cd {APP} && rm -rf logs && cp -a {STATE}/logs-before logs")

        ours, hand = [], []
        for _ in range(ROUNDS):
            sh(BREAK)
            ours.append(run(recover)[0])
            put_back()
            sh(BREAK)
            hand.append(run(SSH + [by_hand])[0])
            put_back()
        b, c = statistics.median(ours), statistics.median(hand)
        print(f"botops recover --yes             {b:8.1f} ms (median of {ROUNDS})")
        print(f"by hand, one ssh, sequential     {c:8.1f} ms   ratio {b / c:.2f}x  (target <= 1.50)  {verdict(b <= 1.5 * c)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        subprocess.run(SSH + [f"docker start db >/dev/null; cd {APP} && git checkout -q -- . && chmod +x {SCRIPT}; "
                              f"printf '%s' {crontab} | base64 -d | crontab -; "
                              f"[ -d {STATE}/logs-before ] && rm -rf logs && cp -a {STATE}/logs-before logs; rm -rf {STATE}"])


if __name__ == "__main__":
    main()
