"""The hybrid logical clock each synced row carries: wall time in ms, a counter, and the device.

``"0001764758400000.0003.<device>"`` sorts as text in clock order, so the server and both devices
agree which of two edits is later even when their wall clocks disagree by a little; a clock far
ahead on one device is adopted (never goes back) and reported, so edits keep their order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

MS_WIDTH = 16
SKEW_WARN_MS = 60 * 60 * 1000  # an hour: more than a clock's ordinary drift


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, order=True)
class Stamp:
    ms: int
    counter: int
    device: str

    def __str__(self) -> str:
        return f"{self.ms:0{MS_WIDTH}d}.{self.counter:04d}.{self.device}"

    @classmethod
    def parse(cls, text: str) -> Stamp:
        ms, counter, device = text.split(".", 2)
        return cls(int(ms), int(counter), device)


class Clock:
    """One device's clock; ``state`` is what the journal stores between syncs."""

    def __init__(self, device: str, state: str | None = None) -> None:
        self.device = device
        last = Stamp.parse(state) if state else Stamp(0, 0, device)
        self.ms, self.counter = last.ms, last.counter

    @property
    def state(self) -> str:
        return str(Stamp(self.ms, self.counter, self.device))

    def send(self, event_ms: int | None = None) -> Stamp:
        """The stamp of a local change made at ``event_ms`` (default now)."""
        pt = now_ms() if event_ms is None else event_ms
        if pt > self.ms:
            self.ms, self.counter = pt, 0
        else:
            self.counter += 1
        return Stamp(self.ms, self.counter, self.device)

    def receive(self, remote: Stamp) -> int:
        """Merge a stamp from another device; returns how far (ms) it was ahead of this wall clock."""
        pt = now_ms()
        ahead = remote.ms - pt
        top = max(self.ms, remote.ms, pt)
        if top == self.ms and top == remote.ms:
            self.counter = max(self.counter, remote.counter) + 1
        elif top == self.ms:
            self.counter += 1
        elif top == remote.ms:
            self.counter = remote.counter + 1
        else:
            self.counter = 0
        self.ms = top
        return ahead
