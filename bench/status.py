#!/usr/bin/env python3
"""botops status vs its probes run by hand, as a ratio measured in one run on the sandbox.

  floor: one ssh connection running, concurrently, the same reads status makes (checkout, disk and
  releases; the services' containers and their states; the lock; the audit; the crontab and the
  zone; the report file, backups, state-dir disk and the host's botops), the container states
  chained after the lookup as status chains them.
  botops status: target <= 1.0x the floor.

Read-only: safe beside other users of the sandbox. Needs the sandbox (scripts/sandbox up) and the
release build (see common.BUILD); BOTOPS_BIN picks another botops binary (a debug build, say).
"""
import os, statistics
from common import BOTOPS, CONFIG, SSH, require, run, verdict

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
BINARY = os.environ.get("BOTOPS_BIN", BOTOPS)
APP = "/opt/bot"
SERVICES = ["sighook", "webhook", "report-job"]

LOOKUP = "; ".join(
    f"id=$(docker ps -a -q --no-trunc --filter label=com.docker.compose.project.working_dir={APP} "
    f"--filter label=com.docker.compose.service={s} | head -n 1); ids=\"$ids $id\"" for s in SERVICES)
PROBES = [
    f"cd {APP} && id -un && git status --porcelain && git symbolic-ref -q --short HEAD; git rev-parse HEAD; "
    f"df -Pk /var/lib/docker . | tail -n +2; cat ~/.botops/releases.json 2>/dev/null",
    f"ids=''; {LOOKUP}; docker inspect -f '{{{{.Id}}}}|{{{{.State.Status}}}}|{{{{.RestartCount}}}}|{{{{.State.StartedAt}}}}' $ids db",
    "cd ~/.botops 2>/dev/null && cat holder.pid holder.json 2>/dev/null; true",
    "tail -n 200 ~/.botops/audit.jsonl 2>/dev/null; true",
    "crontab -l; readlink -f /etc/localtime; dpkg-query -W -f='${Status}' cron",
    f"date +%s; for f in {APP}/logs/weekly_review_*.txt; do stat -c '%Y %s %n' \"$f\"; done 2>/dev/null | sort -n | tail -n 1; "
    "df -Pk ~/.botops 2>/dev/null || df -Pk ~; cat ~/.botops/backups/*.json 2>/dev/null; [ -x ~/botops/bin/botops ] || echo not installed",
]


def main():
    require(BINARY)
    by_hand = " & ".join(f"( {p} ) >/dev/null 2>&1" for p in PROBES) + " & wait"
    run([BINARY, "status", "--config", CONFIG])  # warm caches
    ours, floor = [], []
    for _ in range(ROUNDS):
        ours.append(run([BINARY, "status", "--config", CONFIG, "--format", "json"])[0])
        floor.append(run(SSH + [by_hand])[0])
    b, c = statistics.median(ours), statistics.median(floor)
    print(f"botops status               {b:7.1f} ms (median of {ROUNDS})")
    print(f"one ssh, probes concurrent  {c:7.1f} ms   ratio {b / c:.2f}x  (target <= 1.00)  {verdict(b <= c)}")


if __name__ == "__main__":
    main()
