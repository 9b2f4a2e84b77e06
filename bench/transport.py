#!/usr/bin/env python3
"""Transport benchmarks (issue 2), as ratios against a baseline measured in the same run.

  1. `botops exec -- true` vs `ssh -o ControlMaster=no HOST true`      target: ratio <= 1.2
  2. 32 commands over one botops connection vs 32 sequential ssh calls  target: speed-up >= 8
  3. `botops --help` cold start (absolute) and vs /bin/true            target: < 30 ms
  4. `botops exec` of 1 GB to /dev/null vs `ssh` of the same           target: throughput >= 0.8x ssh's,
                                                                         peak RSS < 30 MB

Needs the sandbox (scripts/sandbox up) and the release build (see common.BUILD).
"""
import os, subprocess
from common import BIN, BOTOPS, CONFIG, SSH, interleaved, require, run, verdict

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
GIGABYTE = 1_000_000_000


def main():
    require(BOTOPS, f"{BIN}/TransportBench")
    exec_true = [BOTOPS, "exec", "--config", CONFIG, "--", "true"]
    run(exec_true)  # warm caches

    botops_ms, ssh_ms = interleaved(lambda: run(exec_true)[0], lambda: run(SSH + ["true"])[0], ROUNDS)
    ratio = botops_ms / ssh_ms
    print(f"exec true         botops {botops_ms:7.1f} ms   ssh {ssh_ms:7.1f} ms   ratio {ratio:.2f}x  (target <= 1.20)  {verdict(ratio <= 1.2)}")

    def many_botops():
        out = subprocess.run([f"{BIN}/TransportBench", CONFIG, "32", "true"], capture_output=True, text=True, check=True)
        return float(out.stdout)

    def many_ssh():
        return sum(run(SSH + ["true"])[0] for _ in range(32))

    one_ms, seq_ms = interleaved(many_botops, many_ssh, max(3, ROUNDS // 5))
    speedup = seq_ms / one_ms
    print(f"32 commands       botops {one_ms:7.1f} ms   ssh {seq_ms:7.1f} ms   speed-up {speedup:.1f}x  (target >= 8)  {verdict(speedup >= 8)}")

    big_output()

    help_ms, true_ms = interleaved(lambda: run([BOTOPS, "--help"])[0], lambda: run(["/bin/true"])[0], ROUNDS * 2)
    print(f"--help cold start botops {help_ms:7.1f} ms   /bin/true {true_ms:5.1f} ms   ratio {help_ms / true_ms:.1f}x  (target < 30 ms)  {verdict(help_ms < 30)}")


def big_output():
    """Streamed output must not be kept: memory stays flat however much a command prints."""
    command = f"head -c {GIGABYTE} /dev/zero"
    peaks = []

    def botops():
        elapsed, peak = run([BOTOPS, "exec", "--config", CONFIG, "--", command])
        peaks.append(peak)
        return elapsed

    botops_ms, ssh_ms = interleaved(botops, lambda: run(SSH + [command])[0], max(3, ROUNDS // 5))
    throughput = ssh_ms / botops_ms
    print(f"1 GB to /dev/null botops {botops_ms:7.1f} ms   ssh {ssh_ms:7.1f} ms   throughput {throughput:.2f}x ssh's  (target >= 0.80)  {verdict(throughput >= 0.8)}")
    print(f"  peak RSS        botops {max(peaks):7.1f} MB  (target < 30 MB)  {verdict(max(peaks) < 30)}")


if __name__ == "__main__":
    main()
