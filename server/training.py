"""Training from the editor: the CLI's ``train --progress json`` as a child process.

Training takes minutes and all cores, so it never runs in the server's process. The child's
JSON lines are turned into progress callbacks; stopping sends SIGTERM, on which the trainer
saves a checkpoint (when it has taken a step) and exits with status 130.

SIGTERM rather than SIGINT: until the trainer installs its handler, SIGINT is Python's
KeyboardInterrupt, which while the interpreter is still starting (importing ``site``) ends it
with status 1 and a "Fatal Python error" traceback. SIGTERM there simply ends the process, and
nothing has been written yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

STOP_SIGNAL = signal.SIGTERM
EXIT_INTERRUPTED = 130  # engine.trainer.EXIT_INTERRUPTED, without importing torch here
STOPPED_CODES = (EXIT_INTERRUPTED, -signal.SIGTERM, -signal.SIGINT)
"""Exit statuses of a child that ended because it was asked to stop."""


def module_command(module: str) -> list[str]:
    """Runs ``module`` with this interpreter without the working directory on ``sys.path``, so
    that a user's ``engine.py`` (the child runs in the config's folder) cannot shadow ours."""
    if sys.version_info >= (3, 11):
        return [sys.executable, "-P", "-m", module]
    code = (
        "import runpy, sys; del sys.path[0]; "
        f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)"
    )
    return [sys.executable, "-c", code]


@dataclass
class TrainingRequest:
    config: Path
    epochs: int | None = None
    workspace: Path | None = None
    device: str | None = None

    @classmethod
    def from_arguments(cls, args: Sequence[Any], root: Path | None) -> TrainingRequest:
        """Accepts ``[{"config": ..., "epochs": ..., "workspace": true}]`` or positional
        ``[config, epochs, workspace]``; relative paths resolve against the workspace root.

        Raises ValueError with a message for the user when the arguments are unusable.
        """
        if len(args) == 1 and isinstance(args[0], dict):
            options = args[0]
        else:
            names = ("config", "epochs", "workspace")
            options = dict(zip(names, args, strict=False))
        config = options.get("config")
        if not isinstance(config, str) or not config:
            raise ValueError(
                'tinyAgent.train needs a configuration file: arguments [{"config": "path.toml"}]'
            )
        path = Path(config).expanduser()
        if not path.is_absolute() and root is not None:
            path = root / path
        if not path.is_file():
            raise ValueError(f"tinyAgent.train: configuration file {path} does not exist")
        epochs = options.get("epochs")
        if epochs is not None and (
            isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1
        ):
            raise ValueError(f"tinyAgent.train: epochs must be a positive integer, got {epochs!r}")
        workspace = options.get("workspace")
        workspace_dir: Path | None = None
        if workspace is True:
            if root is None:
                raise ValueError("tinyAgent.train: workspace=true needs an open workspace folder")
            workspace_dir = root
        elif isinstance(workspace, str) and workspace:
            workspace_dir = Path(workspace).expanduser()
            if not workspace_dir.is_absolute() and root is not None:
                workspace_dir = root / workspace_dir
        return cls(config=path, epochs=epochs, workspace=workspace_dir)

    def display_command(self) -> list[str]:
        """The command as a user would type it."""
        return ["tiny-agent-trainer", *self.arguments()]

    def command(self) -> list[str]:
        return [*module_command("engine.cli"), *self.arguments()]

    def arguments(self) -> list[str]:
        argv = ["train", "--config", str(self.config), "--progress", "json"]
        if self.epochs is not None:
            argv += ["--epochs", str(self.epochs)]
        if self.workspace is not None:
            argv += ["--workspace", str(self.workspace)]
        if self.device is not None:
            argv += ["--device", self.device]
        return argv


@dataclass
class TrainingOutcome:
    status: str  # "finished" | "interrupted" | "failed"
    checkpoint: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    last_epoch: dict[str, Any] | None = None


class TrainingRun:
    """One running ``train`` child; ``on_event`` sees every JSON progress object."""

    def __init__(self, request: TrainingRequest, on_event: Callable[[dict[str, Any]], None]):
        self.request = request
        self._on_event = on_event
        self._process: asyncio.subprocess.Process | None = None
        self.stop_requested = False
        self._signalled = False

    @property
    def pid(self) -> int | None:
        """The child's process id once it is started."""
        return None if self._process is None else self._process.pid

    def stop(self) -> None:
        """Ask the trainer to save a checkpoint and exit; safe at any moment, and more than once
        (the signal is sent once: :meth:`wait_stopped` kills a child that does not stop)."""
        self.stop_requested = True
        self._send_stop()

    def _send_stop(self) -> None:
        process = self._process
        if process is None or process.returncode is not None or self._signalled:
            return
        self._signalled = True
        log.info("stopping training (%s to pid %s)", STOP_SIGNAL.name, process.pid)
        with contextlib.suppress(ProcessLookupError):  # it has just exited
            process.send_signal(STOP_SIGNAL)

    async def wait_stopped(self, timeout_s: float) -> None:
        """Wait for the child to exit after :meth:`stop`; kill it after ``timeout_s``."""
        process = self._process
        if process is None or process.returncode is not None:
            return
        try:
            await asyncio.wait_for(process.wait(), timeout_s)
        except asyncio.TimeoutError:
            log.warning(
                "training did not stop within %.0f s; killing pid %s", timeout_s, process.pid
            )
            process.kill()

    async def run(self) -> TrainingOutcome:
        if self.stop_requested:  # stopped before it started: nothing to run
            return TrainingOutcome("interrupted")
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONSAFEPATH="1")
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.request.command(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                cwd=str(self.request.config.parent),
            )
        except OSError as exc:
            return TrainingOutcome("failed", message=f"could not start training: {exc}")
        if self.stop_requested:  # asked while the process was being created
            self._send_stop()
        stderr_tail: deque[str] = deque(maxlen=20)
        outcome = TrainingOutcome("failed")
        assert self._process.stdout is not None and self._process.stderr is not None

        async def read_stderr(stream: asyncio.StreamReader) -> None:
            while line := await stream.readline():
                text = line.decode("utf-8", "replace").rstrip()
                stderr_tail.append(text)
                log.debug("train: %s", text)

        stderr_task = asyncio.create_task(read_stderr(self._process.stderr))
        while raw := await self._process.stdout.readline():
            try:
                event = json.loads(raw)
            except ValueError:
                log.debug("train (not JSON): %s", raw.decode("utf-8", "replace").rstrip())
                continue
            if not isinstance(event, dict):
                continue
            kind = event.get("event")
            if kind == "end":
                outcome = TrainingOutcome(
                    "finished",
                    checkpoint=event.get("checkpoint"),
                    metrics=dict(event.get("metrics") or {}),
                )
            elif kind == "interrupted" and outcome.status != "finished":
                # (after "end" the model is complete: a stop that came later changes nothing)
                outcome = TrainingOutcome("interrupted", checkpoint=event.get("checkpoint"))
            elif kind == "error":
                outcome = TrainingOutcome("failed", message=str(event.get("message", "")))
            elif kind == "epoch":
                outcome.last_epoch = event
            self._on_event(event)
        code = await self._process.wait()
        await stderr_task
        stopped = self.stop_requested and code in STOPPED_CODES
        if outcome.status == "failed" and not outcome.message and stopped:
            # Stopped before the trainer could report (still starting up): nothing was saved.
            outcome = TrainingOutcome("interrupted", last_epoch=outcome.last_epoch)
        elif outcome.status == "failed" and not outcome.message:
            detail = "\n".join(line for line in stderr_tail if line.strip())[-1500:]
            outcome.message = f"training exited with status {code}" + (
                f": {detail}" if detail else ""
            )
        elif outcome.status == "finished" and code != 0 and not stopped:
            outcome = TrainingOutcome("failed", message=f"training exited with status {code}")
        return outcome
