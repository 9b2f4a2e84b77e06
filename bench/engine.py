#!/usr/bin/env python3
"""Engine benchmarks (issue 4): runs Benchmarks/EngineBench against the sandbox's PostgreSQL.

  ingest-bars: 1,000,000 bars via COPY, target < 2 s, with the ratio against row-by-row INSERTs
  FIFO: 1,000,000 fills allocated in memory, target < 1 s; then written via COPY
"""
import subprocess
from common import BIN, STATE, require

require(f"{BIN}/EngineBench")
url = next(line.split("=", 1)[1].strip() for line in open(f"{STATE}/sandbox.env") if line.startswith("SANDBOX_DATABASE_URL="))
subprocess.run([f"{BIN}/EngineBench", url], check=True)
