"""The run command as a person uses it: start, reach ready, Ctrl-C, nothing left behind."""

from __future__ import annotations

import signal
import time

import pytest

from harness.helpers import alive, cmdline, descendants, start_product

pytestmark = pytest.mark.stack


def test_run_reaches_ready_and_ctrl_c_stops_every_child(trained_model, tmp_path):
    product = start_product(tmp_path, f"sqlite:///{tmp_path / 'var' / 'loive.db'}")
    try:
        product.wait_ready()
        deadline = time.monotonic() + 15  # the supervisor announces within its 1 s poll
        while "ready in" not in product.log():
            assert time.monotonic() < deadline, product.log()[-3000:]
            time.sleep(0.1)
        children = descendants(product.proc.pid)
        names = " ".join(cmdline(p) for p in children)
        for part in ("rasa_server run", "rasa_sdk", "bot gateway"):
            assert part in names, names
        assert product.say("run-user", "xin chào")[0]["text"].startswith("Xin chào")
    finally:
        product.proc.send_signal(signal.SIGINT)
        code = product.proc.wait(60)
    assert code == 0, product.log()[-3000:]
    assert not [p for p in children if alive(p)], "children left running after Ctrl-C"
    assert "stopped" in product.log()
