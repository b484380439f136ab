"""How busy the machine's cores were while a command ran, from /proc/stat (Linux).

Usage (from the repository root):
    .venv/bin/python bench/cpu_busy.py COMMAND...
e.g.
    OMP_NUM_THREADS=1 .venv/bin/python bench/cpu_busy.py .venv/bin/python -m pytest -q -n 2 \
        --dist loadgroup tests/test_browser.py

Runs COMMAND, then prints its wall time and the share of all cores' time that was busy
(not idle, not waiting for the disk) over that span. Run it with nothing else on the
machine: the count is of the whole machine, not of COMMAND alone.
"""

import os
import subprocess
import sys
import time


def ticks():
    """(busy, all) ticks of every core since boot."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def main(command):
    if not command:
        sys.exit(__doc__)
    busy, total, start = *ticks(), time.perf_counter()
    code = subprocess.run(command).returncode
    busy_after, total_after = ticks()
    share = (busy_after - busy) / (total_after - total)
    print(
        f"{time.perf_counter() - start:.1f} s, {share:.0%} of {os.cpu_count()} cores busy "
        f"(exit {code})",
        file=sys.stderr,
    )
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
