"""The run command's process supervisor.

Starts, on loopback, as children it supervises:
  1. the action server (rasa-sdk, this environment),
  2. the gateway (uvicorn, this environment),
  3. the Rasa server (``.venv-rasa``), after training the model if it is
     missing or stale.
Each child's output is shown with its name in front. A child that exits on its
own is reported and restarted with back-off (1, 2, 4 … seconds, capped at
RESTART_DELAY_MAX_S), forever: the product never stops itself, and
``var/children.json`` (shown by ``/healthz``) says what was restarted, how often
and when. Ctrl-C or SIGTERM stops all
children (process groups, SIGTERM then SIGKILL); children also get SIGTERM if
the supervisor itself is killed (PR_SET_PDEATHSIG), so nothing is orphaned.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import dataclasses
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import TextIO

import httpx

from bot import PROJECT_ROOT
from bot.config import Settings
from vietnamese.clock import utcnow
from bot.runtime.rasa_env import ensure_model, rasa_env, rasa_python, render_endpoints

_PR_SET_PDEATHSIG = 1
RESTART_DELAY_MAX_S = 60.0
# A child that ran this long before exiting starts the back-off from 1 s again.
STABLE_AFTER_S = 300.0
STATUS_FILE = "children.json"
STOP_TIMEOUT_S = 10.0


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


async def exited(proc: asyncio.subprocess.Process) -> int:
    """The exit code, as soon as the process has exited.

    Not ``proc.wait()``: in Python 3.11 that resolves only once every pipe is
    closed, and a child's orphaned helpers can keep its stdout open forever.
    """
    while proc.returncode is None:
        await asyncio.sleep(0.1)
    return proc.returncode


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    proc: asyncio.subprocess.Process | None = None
    restarts: int = 0          # since the run started
    streak: int = 0            # exits in a row, each within STABLE_AFTER_S of its start
    started_at: float = 0.0
    state: str = "starting"
    last_exit: dict[str, object] | None = None
    pump: asyncio.Task[None] | None = None
    watcher: asyncio.Task[None] | None = None


def part_commands(s: Settings) -> dict[str, tuple[list[str], dict[str, str]]]:
    """argv and environment of each part: what `run` supervises, and what
    `python -m bot rasa|actions|gateway` starts alone (one part per process,
    for deployments that place and replicate them)."""
    app_env = dict(os.environ)
    app_env.update(
        {
            # The project first; what was inherited after it (a time-shifted test
            # pass puts tests/timeshift there, so the children share its clock).
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
            "PYTHONUNBUFFERED": "1",
            "LOIVE_RASA_TOKEN": s.rasa_token,
            "LOIVE_HOST": s.host,
            "LOIVE_PORT": str(s.port),
            "LOIVE_RASA_PORT": str(s.rasa_port),
            "LOIVE_ACTIONS_PORT": str(s.actions_port),
            "LOIVE_VAR_DIR": str(s.var_dir),
        }
    )
    return {
        # actions/__init__.py makes its logging safe (bot.logsafe), in every worker
        "actions": (
            [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "-p", str(s.actions_port)],
            {**app_env, "SANIC_HOST": s.actions_host, "SANIC_WORKERS": str(s.actions_workers)},
        ),
        "gateway": ([sys.executable, "-m", "bot", "gateway"], app_env),
        "rasa": (
            [
                # Rasa's own CLI, minus measured waste (bot/runtime/rasa_server.py)
                str(rasa_python()), "-m", "bot.runtime.rasa_server", "run", "--enable-api",
                "--auth-token", s.rasa_token,
                "-m", str(s.models_dir / "loive.tar.gz"),
                "-i", s.rasa_host, "-p", str(s.rasa_port),
                "--endpoints", str(s.var_dir / "rasa-endpoints.yml"),
                "--credentials", "credentials.yml",
                "--logging-config-file", "logging.yml",  # bot/logsafe.py: nothing personal
            ],
            # One worker per core; Rasa allows more than one only with a shared
            # lock store (rasa_env.render_endpoints writes one).
            rasa_env({"PYTHONUNBUFFERED": "1", "SANIC_WORKERS": str(s.rasa_workers)}),
        ),
    }


class Supervisor:
    def __init__(self, settings: Settings, out: TextIO = sys.stdout) -> None:
        if not settings.rasa_token:
            settings = dataclasses.replace(settings, rasa_token=secrets.token_urlsafe(24))
        self.settings = settings
        self.out = out
        self.stopping = asyncio.Event()
        self.failed: str | None = None
        self.children: dict[str, Child] = {}
        self._started_at = time.monotonic()
        self._training: subprocess.Popen[bytes] | None = None

    # --- output -------------------------------------------------------------

    def say(self, message: str) -> None:
        self.out.write(f"{'run':>8} | {message}\n")
        self.out.flush()

    async def _pump(self, child: Child) -> None:
        assert child.proc and child.proc.stdout
        while line := await child.proc.stdout.readline():
            self.out.write(f"{child.name:>8} | {line.decode('utf-8', 'replace').rstrip()}\n")
            self.out.flush()

    # --- children -----------------------------------------------------------

    def _specs(self) -> list[Child]:
        parts = part_commands(self.settings)
        return [Child(name, *parts[name]) for name in ("actions", "gateway", "rasa")]

    async def _spawn(self, child: Child) -> None:
        child.proc = await asyncio.create_subprocess_exec(
            *child.argv,
            cwd=PROJECT_ROOT,
            env=child.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # own process group: we decide how it stops
            preexec_fn=_die_with_parent,
            limit=1 << 20,
        )
        child.pump = asyncio.create_task(self._pump(child))
        child.watcher = asyncio.create_task(self._watch(child, child.proc))
        child.started_at = time.monotonic()
        child.state = "running"
        self._write_status()

    def _write_status(self) -> None:
        """What /healthz shows about the children (restarts, last exit)."""
        status = {"updated_at": utcnow().isoformat(timespec="seconds"),
                  "children": {c.name: {"state": c.state, "restarts": c.restarts, "last_exit": c.last_exit}
                               for c in self.children.values()}}
        path = self.settings.var_dir / STATUS_FILE
        tmp = path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(status), encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            self.say(f"cannot write {path.name}: {type(exc).__name__}")

    async def _watch(self, child: Child, proc: asyncio.subprocess.Process) -> None:
        code = await exited(proc)
        # Its helpers (Sanic's worker processes) may outlive it and keep the
        # output pipe open: end the whole process group, then drain the output.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if child.pump:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(child.pump, timeout=5.0)
        if self.stopping.is_set() or child.proc is not proc:
            return
        now = time.monotonic()
        child.streak = 1 if now - child.started_at >= STABLE_AFTER_S else child.streak + 1
        child.restarts += 1
        delay = min(2.0 ** (child.streak - 1), RESTART_DELAY_MAX_S)
        child.state = "restarting"
        child.last_exit = {"code": code, "at": utcnow().isoformat(timespec="seconds"),
                           "restart_in_s": delay}
        self._write_status()
        self.say(
            f"{child.name} exited unexpectedly (exit code {code}); "
            f"restarting in {delay:.0f} s (restart {child.restarts}; {child.streak} in a row)"
        )
        try:
            await asyncio.wait_for(self.stopping.wait(), timeout=delay)
            return
        except asyncio.TimeoutError:
            pass
        await self._spawn(child)

    async def _stop_child(self, child: Child) -> None:
        proc = child.proc
        if proc is None or proc.returncode is not None:
            return
        # SIGINT first: Sanic (Rasa, rasa-sdk) and uvicorn shut down cleanly on
        # it, while rasa-sdk prints a traceback on SIGTERM.
        steps = ((signal.SIGINT, STOP_TIMEOUT_S), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0))
        for sig, wait in steps:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                await asyncio.wait_for(exited(proc), timeout=wait)
                return
            except asyncio.TimeoutError:
                self.say(f"{child.name} did not stop on {sig.name} within {wait:.0f} s")

    # --- readiness ----------------------------------------------------------

    async def _announce_ready(self) -> None:
        url = f"http://{self.settings.host}:{self.settings.port}"
        async with httpx.AsyncClient() as http:
            was_ready = False
            while not self.stopping.is_set():
                channels: list[str] = []
                try:
                    resp = await http.get(f"{url}/healthz", timeout=3.0)
                    ready = resp.status_code == 200
                    channels = resp.json().get("channels", []) if ready else []
                except (httpx.HTTPError, ValueError):
                    ready = False
                if ready and not was_ready:
                    took = time.monotonic() - self._started_at
                    self.say(f"ready in {took:.1f} s: web chat {url}/  (API: POST {url}/api/messages)")
                    self.say("channels on: " + ", ".join(channels or ["web"])
                             + ("" if len(channels) > 1 else "  (Telegram/Zalo: see .env.example)"))
                    self.say("channels on: web. Press Ctrl-C to stop.")
                elif was_ready and not ready:
                    self.say("not ready: waiting for every part to come back (see GET /healthz)")
                was_ready = ready
                try:
                    await asyncio.wait_for(self.stopping.wait(), timeout=1.0 if not ready else 5.0)
                except asyncio.TimeoutError:
                    pass

    # --- main ---------------------------------------------------------------

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._request_stop, sig)
        render_endpoints(self.settings)
        specs = {c.name: c for c in self._specs()}
        self.children = specs
        await self._spawn(specs["actions"])
        await self._spawn(specs["gateway"])
        announcer = asyncio.create_task(self._announce_ready())
        try:
            await asyncio.to_thread(ensure_model, self.settings, False, self._register_training)
        except SystemExit as exc:
            if not self.stopping.is_set():
                self.failed = str(exc)
                self.say(f"cannot start Rasa: {exc}")
        if not self.stopping.is_set():
            await self._spawn(specs["rasa"])
            await self.stopping.wait()
        self.stopping.set()
        self.say("stopping…")
        await asyncio.gather(*(self._stop_child(c) for c in reversed(list(specs.values()))))
        await asyncio.gather(*(c.watcher for c in specs.values() if c.watcher))
        await announcer
        self.say("stopped" if not self.failed else f"failed: {self.failed}")
        return 1 if self.failed else 0

    def _register_training(self, proc: subprocess.Popen[bytes]) -> None:
        self._training = proc

    def _request_stop(self, sig: signal.Signals) -> None:
        if self.stopping.is_set():
            return
        self.say(f"received {sig.name}")
        self.stopping.set()
        if self._training is not None and self._training.poll() is None:
            self._training.terminate()


def run_part(settings: Settings, name: str) -> int:
    """``python -m bot rasa|actions``: this one part in this process (exec)."""
    if name == "rasa":
        if not settings.rasa_token:
            raise SystemExit("LOIVE_RASA_TOKEN must be set: the gateways use it to reach every Rasa replica")
        render_endpoints(settings)
        ensure_model(settings)
    argv, env = part_commands(settings)[name]
    os.chdir(PROJECT_ROOT)
    sys.stdout.flush()
    os.execve(argv[0], argv, env)
    return 1  # not reached
