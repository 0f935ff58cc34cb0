"""A growing delay after wrong passwords (no Streamlit here: tested with a fake clock).

The first wrong passwords in a row cost nothing (typos); from the
LOCK_AFTER_FAILURES-th on, each locks sign-in: FIRST_DELAY_SECONDS, then
twice as long each time, capped at MAX_DELAY_SECONDS. While locked, attempts are refused without comparing the
password (the right one too) and do not lengthen the lock, so a person
clicking again is not punished. A right password clears the count.

The cap trades guessing against locking the real editor out: someone
guessing gets about one try a minute (1,440 a day, hopeless against a
passphrase of a few random words), and an editor locked out by someone
else's failures waits at most a minute.

Nothing here sleeps: a locked attempt is answered at once with the time
left, so no session (and no shared lock) is held up by another's failures.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Callable

LOCK_AFTER_FAILURES = 3
FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 60.0


def lock_seconds(failures: int) -> float:
    """How long sign-in locks after `failures` wrong passwords in a row: 0, 0,
    then 1, 2, 4... seconds, capped (with the defaults)."""
    if failures < LOCK_AFTER_FAILURES:
        return 0.0
    doublings = min(failures - LOCK_AFTER_FAILURES, 32)   # 2**32 s is far past any cap
    return min(FIRST_DELAY_SECONDS * 2 ** doublings, MAX_DELAY_SECONDS)


@dataclass
class Throttle:
    """Wrong passwords in a row and the end of the lock they set, for one
    scope (a browser session, or the whole server). Thread-safe: sessions
    of one server share one; the lock is held only to count."""
    failures: int = 0
    locked_until: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def seconds_left(self, now: float) -> float:
        """Seconds until the next attempt is compared (0: now)."""
        with self._lock:
            return max(0.0, self.locked_until - now)

    def record(self, right: bool, now: float) -> float:
        """Counts an attempt's outcome; returns the lock it sets (seconds, 0: none)."""
        with self._lock:
            return self._record(right, now)

    def attempt(self, check: Callable[[], bool], now: float) -> tuple[bool | None, float]:
        """Calls check() unless locked and counts its outcome, in one step, so
        two sessions cannot both slip into the same gap. Returns (None, seconds
        left) when locked (check not called), (True, 0) when check() passed,
        (False, the lock this failure sets, 0 for none) when it did not."""
        with self._lock:
            if self.locked_until > now:
                return None, self.locked_until - now
            right = check()
            return right, self._record(right, now)

    def _record(self, right: bool, now: float) -> float:
        if right:
            self.failures, self.locked_until = 0, 0.0
            return 0.0
        self.failures += 1
        delay = lock_seconds(self.failures)
        self.locked_until = now + delay
        return delay


def wait_words(seconds: float) -> str:
    """'1 second', '8 seconds', '2 minutes': rounded up, minutes from a minute on."""
    whole = max(1, math.ceil(seconds))
    if whole >= 60:
        whole, unit = math.ceil(whole / 60), "minute"
    else:
        unit = "second"
    return f"{whole} {unit}{'s' if whole != 1 else ''}"
