"""`allegro-sync local up` stops on Ctrl-C whichever of its threads the kernel hands the signal to."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# The main thread waits as `local up` does; another thread takes the SIGINT, as the kernel may choose
# when a process has many threads. A bare `Event.wait()` sleeps on through it.
SCRIPT = """
import signal, threading, time
from allegro_sync.cli.local_cmd import wait_until_stopped

def take_the_signal() -> None:
    time.sleep(0.3)
    signal.pthread_kill(threading.get_ident(), signal.SIGINT)  # to this thread, not the main one
    time.sleep(600)

threading.Thread(target=take_the_signal, daemon=True).start()
wait_until_stopped(threading.Event())
print("stopped")
"""


def test_ctrl_c_handed_to_another_thread_still_stops_local_up() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT)])}
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stopped"
