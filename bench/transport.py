#!/usr/bin/env python3
"""Transport benchmarks (issue 2), as ratios against a baseline measured in the same run.

  1. `botops exec -- true` vs `ssh -o ControlMaster=no HOST true`      target: ratio <= 1.2
  2. 32 commands over one botops connection vs 32 sequential ssh calls  target: speed-up >= 8
  3. `botops --help` cold start (absolute) and vs /bin/true            target: < 30 ms

Needs the sandbox (scripts/sandbox up) and a release build (swift build -c release --static-swift-stdlib).
"""
import os, statistics, subprocess, sys, time

STATE = os.environ.get("BOTOPS_SANDBOX_DIR", "/var/lib/botops-sandbox")
CONFIG = f"{STATE}/botops.yml"
SSH = ["ssh", "-F", f"{STATE}/ssh/ssh_config", "-o", "ControlMaster=no", "-o", "ControlPath=none", "bottrader-sandbox"]
# The release build as shipped: Swift runtime linked statically (faster start, smaller RSS).
BUILD = ["swift", "build", "-c", "release", "--static-swift-stdlib"]
BIN = subprocess.run(BUILD + ["--show-bin-path"], capture_output=True, text=True, check=True).stdout.strip()
BOTOPS = f"{BIN}/botops"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))


def timed(command):
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


def interleaved(a, b, rounds=ROUNDS):
    """Alternate the two so machine noise hits both alike; return their medians in ms."""
    xs, ys = [], []
    for _ in range(rounds):
        xs.append(a())
        ys.append(b())
    return statistics.median(xs), statistics.median(ys)


def main():
    for path in (BOTOPS, f"{BIN}/TransportBench"):
        if not os.access(path, os.X_OK):
            sys.exit(f"{path} missing: run swift build -c release --static-swift-stdlib first")
    timed([BOTOPS, "exec", "--config", CONFIG, "--", "true"])  # warm caches

    botops_ms, ssh_ms = interleaved(lambda: timed([BOTOPS, "exec", "--config", CONFIG, "--", "true"]),
                                    lambda: timed(SSH + ["true"]))
    ratio = botops_ms / ssh_ms
    print(f"exec true         botops {botops_ms:7.1f} ms   ssh {ssh_ms:7.1f} ms   ratio {ratio:.2f}x  (target <= 1.20)  {'PASS' if ratio <= 1.2 else 'FAIL'}")

    def many_botops():
        out = subprocess.run([f"{BIN}/TransportBench", CONFIG, "32", "true"], capture_output=True, text=True, check=True)
        return float(out.stdout)

    def many_ssh():
        start = time.perf_counter()
        for _ in range(32):
            subprocess.run(SSH + ["true"], check=True, stdout=subprocess.DEVNULL)
        return (time.perf_counter() - start) * 1000

    one_ms, seq_ms = interleaved(many_botops, many_ssh, rounds=max(3, ROUNDS // 5))
    speedup = seq_ms / one_ms
    print(f"32 commands       botops {one_ms:7.1f} ms   ssh {seq_ms:7.1f} ms   speed-up {speedup:.1f}x  (target >= 8)  {'PASS' if speedup >= 8 else 'FAIL'}")

    help_ms, true_ms = interleaved(lambda: timed([BOTOPS, "--help"]), lambda: timed(["/bin/true"]), rounds=ROUNDS * 2)
    print(f"--help cold start botops {help_ms:7.1f} ms   /bin/true {true_ms:5.1f} ms   ratio {help_ms / true_ms:.1f}x  (target < 30 ms)  {'PASS' if help_ms < 30 else 'FAIL'}")


if __name__ == "__main__":
    main()
