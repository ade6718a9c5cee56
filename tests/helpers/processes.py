"""Processes a test freezes to play a hung server (SIGSTOP: TCP still accepts, nothing answers):
a private PostgreSQL (cluster.py) or gunicorn (live.py)."""
from __future__ import annotations

import glob
import os
import signal
from pathlib import Path


def children(pid: int) -> list[int]:
    """PIDs of the live processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
        except OSError:
            continue  # ended meanwhile
        fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.split("/")[2]))
    return sorted(found)


def freeze(main: int) -> list[int]:
    """SIGSTOP `main` and its children; returns the PIDs to thaw."""
    frozen = [main, *children(main)]
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)
    return frozen


def thaw(frozen: list[int]) -> None:
    for pid in frozen:
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
