#!/usr/bin/env python3
"""botops deploy and rollback (issues 8 and 13), against baselines measured in the same run on the sandbox.

  1. `botops deploy --service sighook --ref B` vs the same work by hand over one ssh session:
     the nine verification commands, git fetch + checkout, compose build --no-cache, compose up -d
     --no-deps, polling until healthy and stable for the same window, the nine commands again.
     botops's overhead (lock, preflight, kept image, audit, …) = difference of the medians.
     Target: <= 0.5 s per deploy.
  2. `botops rollback` with the kept image vs the same rollback done by hand over one ssh session:
     git checkout of the earlier branch, docker tag of its kept image, docker stop, compose up -d
     --no-deps, polling until healthy and stable for the same window, the nine commands.
     Target: <= 0.5 s overhead. For context, the same rollback when the kept image is gone (it
     rebuilds): the sandbox's image build is two COPY lines (about a second), so that ratio says
     little; with the user's images, whose build installs the Python dependencies, the rebuild dominates.

`python3 bench/deploy.py [deploy|rollback]` runs one part (default: both). Takes the sandbox lock
for the whole run and leaves the app on main. Needs the sandbox (scripts/sandbox up) and the
release build (see common.BUILD).
"""
import fcntl, json, os, statistics, subprocess, sys, tempfile, time
from common import BOTOPS, CONFIG, SSH, require, verdict

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP = "/opt/bot"
STABLE_FOR = 2
COMPOSE = "docker-compose --env-file .env -f docker-compose.aws.yml"
BRANCHES = ["bench/deploy-a", "bench/deploy-b"]

# The runbook's nine verification commands at once on one connection (as bench/verify.py).
PSQL = "docker exec db psql -U bot_user -d bot_trader_db -c"
VERIFY = " & ".join([
    "( crontab -l | grep weekly )", f"( ls -la {APP}/weekly_strategy_review.sh )", f"( ls -la {APP}/queries/*.sql )",
    "( docker ps | grep db )", f"( {PSQL} 'SELECT COUNT(*) FROM trade_records;' )",
    f"( {APP}/weekly_strategy_review.sh && ls -lh {APP}/logs/weekly_review_*.txt | tail -1 )",
    f"( {PSQL} \"SELECT COUNT(*) FROM trade_strategy_link WHERE linked_at >= NOW() - INTERVAL '1 day';\" )",
    f"( {PSQL} \"SELECT snapshot_id FROM strategy_snapshots WHERE active_until IS NULL;\" )",
]) + " & wait"

# Healthy, then unchanged (same container, no restart) for STABLE_FOR seconds: what botops waits for.
WAIT_STABLE = f"""
while :; do
  s=$(docker inspect -f '{{{{.Id}}}} {{{{.State.Health.Status}}}} {{{{.RestartCount}}}}' sighook)
  case "$s" in *" healthy "*) first="$s"; sleep {STABLE_FOR}; [ "$(docker inspect -f '{{{{.Id}}}} {{{{.State.Health.Status}}}} {{{{.RestartCount}}}}' sighook)" = "$first" ] && break;; esac
  sleep 0.5
done"""


def by_hand(branch):
    return f"""set -e; cd {APP}
{VERIFY} >/dev/null 2>&1
git fetch -q --prune origin
git checkout -q -B {branch} origin/{branch}
{COMPOSE} build --no-cache sighook >/dev/null 2>&1
{COMPOSE} up -d --no-deps sighook >/dev/null 2>&1
{WAIT_STABLE}
{VERIFY} >/dev/null 2>&1"""


def rollback_by_hand(branch, kept):
    """What `botops rollback --to BRANCH` does with a kept image, typed in one ssh session."""
    return f"""set -e; cd {APP}
git checkout -q {branch}
docker tag {kept} bottrader/sighook:latest
docker stop sighook >/dev/null
{COMPOSE} up -d --no-deps sighook >/dev/null 2>&1
{WAIT_STABLE}
{VERIFY} >/dev/null 2>&1"""


def ssh(script):
    subprocess.run(SSH + [script], check=True, stdout=subprocess.DEVNULL)


def timed(command):
    start = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    return time.perf_counter() - start, result.stdout


def steps(output):
    """Each step's duration in seconds, from `--format json` events."""
    events = (json.loads(line) for line in output.splitlines())
    return {e["step"]: e["duration_ms"] / 1000 for e in events if e.get("event") == "step_finished"}


def step_seconds(output, name):
    return steps(output).get(name, 0.0)


def setup(config_dir):
    """Two branches with different sighook releases, and a config with the same stable window."""
    script = f"""set -e; origin=$(git -C {APP} remote get-url origin); work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
git clone -q "$origin" "$work"; cd "$work"
for b in {' '.join(BRANCHES)}; do
  git checkout -q -B "$b" origin/main; echo "bench $b" > VERSION
  git -c user.name=bench -c user.email=bench@botops.invalid commit -q -am "bench: $b"; git push -q -f origin "$b"
done"""
    ssh(script)
    with open(CONFIG) as f:
        text = f.read().replace("command: auto", "command: docker-compose")
    text += f"health: {{timeout: 60s, stable_for: {STABLE_FOR}s}}\nplaybooks: {ROOT}/playbooks\n"
    path = os.path.join(config_dir, "botops.yml")
    with open(path, "w") as f:
        f.write(text)
    return path


def restore(config):
    origin = f"$(git -C {APP} remote get-url origin)"
    head = subprocess.run(SSH + [f"git ls-remote {origin} refs/heads/main | cut -f1"], capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run([BOTOPS, "rollback", "--config", config, "--service", "sighook", "--to", "main"], stdout=subprocess.DEVNULL, check=False)
    ssh(f"cd {APP} && git checkout -q -B main {head} && for b in {' '.join(BRANCHES)}; do git branch -q -D $b 2>/dev/null; git -C {origin} branch -q -D $b; done; true")


def bench_deploy(deploy):
    # Warm up both paths (images, page cache), landing on the first branch.
    timed(deploy(BRANCHES[1]))
    ssh(by_hand(BRANCHES[0]))
    botops, hand = [], []
    for i in range(ROUNDS):
        botops.append(timed(deploy(BRANCHES[i % 2]))[0])
        start = time.perf_counter()
        ssh(by_hand(BRANCHES[(i + 1) % 2]))
        hand.append(time.perf_counter() - start)
    b, h = statistics.median(botops), statistics.median(hand)
    print(f"deploy, botops                  {b:6.2f} s (median of {ROUNDS})")
    print(f"deploy, the same work by hand   {h:6.2f} s")
    print(f"botops's overhead               {b - h:+6.2f} s   (target <= 0.50)  {verdict(b - h <= 0.5)}")


def bench_rollback(deploy, config):
    """Each round starts on A: deploy B (A's image is kept), roll back to A with botops; deploy B,
    roll back to A by hand; deploy B, delete A's kept image, roll back to A with botops (rebuild)."""
    a, b = BRANCHES
    rollback = [BOTOPS, "rollback", "--config", config, "--service", "sighook", "--to", a, "--format", "json"]
    timed(deploy(a))
    a_rev = subprocess.run(SSH + [f"git -C {APP} rev-parse {a}"], capture_output=True, text=True, check=True).stdout.strip()
    kept_tag = f"bottrader/sighook:botops-{a_rev[:12]}"
    kept, hand, rebuilt, kept_step, rebuilt_step, kept_steps = [], [], [], [], [], []
    for _ in range(ROUNDS):
        timed(deploy(b))
        seconds, output = timed(rollback)
        kept.append(seconds)
        kept_step.append(step_seconds(output, "rollback: restore-image"))
        kept_steps.append(steps(output))
        timed(deploy(b))
        start = time.perf_counter()
        ssh(rollback_by_hand(a, kept_tag))
        hand.append(time.perf_counter() - start)
        timed(deploy(b))
        ssh(f"docker image rm {kept_tag} >/dev/null")
        seconds, output = timed(rollback)
        rebuilt.append(seconds)
        rebuilt_step.append(step_seconds(output, "rollback: restore-image"))
    k, h, r = statistics.median(kept), statistics.median(hand), statistics.median(rebuilt)
    ks, rs = statistics.median(kept_step), statistics.median(rebuilt_step)
    print(f"rollback, kept image, botops    {k:6.2f} s (median of {ROUNDS})")
    print(f"rollback, the same work by hand {h:6.2f} s")
    print(f"botops's overhead               {k - h:+6.2f} s   (target <= 0.50)  {verdict(k - h <= 0.5)}")
    # Where botops's rollback spends its time: each step, and what runs outside the steps
    # (process start, connect, reading the host, judging the target's compose file, the audit).
    names = list(kept_steps[0])
    medians = {n: statistics.median(s.get(n, 0.0) for s in kept_steps) for n in names}
    print("  its steps: " + ", ".join(f"{n.removeprefix('rollback: ')} {v:.2f}" for n, v in medians.items())
          + f"; outside the steps {k - sum(medians.values()):.2f} s")
    print(f"context: rollback rebuilding    {r:6.2f} s   kept/rebuild {k / r:.2f}")
    print(f"  its image step: kept {ks:5.2f} s, rebuild {rs:5.2f} s   ratio {ks / rs:.2f}")


def main():
    parts = sys.argv[1:] or ["deploy", "rollback"]
    if not set(parts) <= {"deploy", "rollback"}:
        sys.exit("usage: bench/deploy.py [deploy|rollback]")
    require(BOTOPS)
    lock = open("/tmp/botops-sandbox.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    config_dir = tempfile.mkdtemp(prefix="botops-bench-")
    config = setup(config_dir)
    try:
        deploy = lambda branch: [BOTOPS, "deploy", "--config", config, "--service", "sighook", "--ref", branch, "--format", "json"]
        if "deploy" in parts:
            bench_deploy(deploy)
        if "rollback" in parts:
            bench_rollback(deploy, config)
    finally:
        restore(config)


if __name__ == "__main__":
    main()
