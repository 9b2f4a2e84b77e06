"""What the benchmark scripts share: the sandbox, the shipped release build, timing."""
import os, statistics, subprocess, sys, time

STATE = os.environ.get("BOTOPS_SANDBOX_DIR", "/var/lib/botops-sandbox")
CONFIG = f"{STATE}/botops.yml"
SSH = ["ssh", "-F", f"{STATE}/ssh/ssh_config", "-o", "ControlMaster=no", "-o", "ControlPath=none", "bottrader-sandbox"]
# The release build as shipped: Swift runtime linked statically (faster start, smaller RSS).
BUILD = ["swift", "build", "-c", "release", "--static-swift-stdlib"]
BIN = subprocess.run(BUILD + ["--show-bin-path"], capture_output=True, text=True, check=True).stdout.strip()
BOTOPS = f"{BIN}/botops"


def require(*paths):
    for path in paths:
        if not os.access(path, os.X_OK):
            sys.exit(f"{path} missing: run {' '.join(BUILD)} first")


def run(command, allowed=(0,)):
    """Wall time in ms and peak RSS in MB of one child process, which must exit with an allowed status."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = (time.perf_counter() - start) * 1000
    if os.waitstatus_to_exitcode(status) not in allowed:
        sys.exit(f"{' '.join(command)} failed with status {status}")
    return elapsed, usage.ru_maxrss / 1024


def interleaved(a, b, rounds):
    """Alternate the two so machine noise hits both alike; return their medians."""
    xs, ys = [], []
    for _ in range(rounds):
        xs.append(a())
        ys.append(b())
    return statistics.median(xs), statistics.median(ys)


def spread(values, digits=2):
    """`median (min–max)` of per-round figures, so one noisy round shows as noise."""
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def load_average():
    """The 1-, 5- and 15-minute load averages, printed beside every figure measured on a shared machine."""
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def verdict(ok):
    return "PASS" if ok else "FAIL"
