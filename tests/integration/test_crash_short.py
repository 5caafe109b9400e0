"""Crash test, short version for `make test` (the full one is `make
crash-test`, scripts/crash-test.sh): at least 50 kill -9 of the store under
concurrent REST and bus writers, each followed by a restart and a check that
every acknowledged write is present bit-exact and every acknowledged delete
absent. See tests/crash/crash_harness.py.

Environment: VX_CRASH_KILLS (default 50, never fewer), VX_CRASH_SEED
(default: random, printed so a failure can be replayed), VX_BIN.
The last line is the harness's "N passed, N failed" (one per kill cycle)."""

import os
import random
import sys

HARNESS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "crash", "crash_harness.py")

if __name__ == "__main__":
    kills = max(50, int(os.environ.get("VX_CRASH_KILLS", "50")))
    seed = os.environ.get("VX_CRASH_SEED", str(random.SystemRandom().randint(1, 99999)))
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, HARNESS, "--kills", str(kills), "--seed", seed])
