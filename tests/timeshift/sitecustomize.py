"""Loaded by every Python process the tests start while a time-shifted pass
runs (``pytest --clock-at=…`` puts this folder on PYTHONPATH): it moves the
child's clock by the same offset as the test process, with time-machine, so the
product, its action server and dispatch workers share the tests' timeline.

Rasa's own environment has no time-machine and keeps the real clock: it only
stamps its tracker events, which our code never reads as "now"."""

import os

_OFFSET = os.environ.get("LOIVE_TEST_CLOCK_OFFSET_S")
if _OFFSET:
    try:
        import time
        import time_machine
    except ImportError:
        pass
    else:
        time_machine.travel(time.time() + float(_OFFSET), tick=True).start()
