"""The generation model as the server sees it: loaded in the background, used off the loop.

Loading imports torch and reads the weights (seconds), so it starts after ``initialized`` and
never delays a request: until it is ready, completions say the model is loading. Each prompt
becomes a :class:`GenerationJob`; a job runs in a thread and polls its stop flag between
decoding steps, which is how ``$/cancelRequest`` and newer prompts stop older decoding.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from engine.generate import GenerationResult, Generator

log = logging.getLogger(__name__)

ModelState = Literal["unloaded", "loading", "ready", "failed", "training"]
JobKey = tuple[str, str, str, int | None, int | None]
"""Document, prompt, document text, beams, max tokens: what the generated code depends on."""
_KEEP_JOBS = 16


@dataclass
class GenerationJob:
    """One prompt being (or having been) turned into code."""

    key: JobKey
    stop: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task[GenerationResult | None] | None = None
    started: float = field(default_factory=time.perf_counter)
    cancelled: bool = False
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.task is not None and self.task.done()

    def result(self) -> GenerationResult | None:
        if self.task is None or not self.task.done() or self.task.cancelled():
            return None
        return self.task.result()


class ModelService:
    """Owns the loaded :class:`~engine.generate.Generator` and the generation jobs."""

    def __init__(
        self,
        on_change: Callable[[dict[str, Any]], None],
        on_log: Callable[[str], None] = lambda message: None,
    ) -> None:
        self._on_change = on_change
        self._on_log = on_log
        self.state: ModelState = "unloaded"
        self.model: str | None = None
        self.error: str | None = None
        self.generator: Generator | None = None
        self._load_task: asyncio.Task[None] | None = None
        self._prepare_task: asyncio.Task[None] | None = None
        self._load_generation = 0
        self._jobs: OrderedDict[JobKey, GenerationJob] = OrderedDict()
        self._lock = asyncio.Lock()
        self.training_progress: int | None = None

    @property
    def display_name(self) -> str:
        if self.model in (None, ""):
            return "default"
        return str(self.model)

    def status(self) -> dict[str, Any]:
        """The ``tinyAgent/status`` payload."""
        payload: dict[str, Any] = {"model": self.display_name, "state": self.state}
        if self.state == "training" and self.training_progress is not None:
            payload["progress"] = self.training_progress
        if self.error and self.state == "failed":
            payload["message"] = self.error
        return payload

    def set_state(self, state: ModelState, progress: int | None = None) -> None:
        self.state = state
        self.training_progress = progress
        self._on_change(self.status())

    def load(self, model: str | None) -> asyncio.Task[None]:
        """Start loading ``model`` (None: the shipped default) in a thread; returns the task."""
        self._load_generation += 1
        generation = self._load_generation
        self.model = model
        self.error = None
        self.set_state("loading")
        self._load_task = asyncio.get_running_loop().create_task(self._load(model, generation))
        return self._load_task

    def ensure_loading(self, model: str | None) -> None:
        if self.state == "unloaded":
            self.load(model)

    async def _load(self, model: str | None, generation: int) -> None:
        started = time.perf_counter()
        try:
            generator = await asyncio.to_thread(_load_generator, model)
        except Exception as exc:
            if generation == self._load_generation:
                self.error = str(exc) or type(exc).__name__
                log.error("model %s failed to load: %s", model or "default", self.error)
                self.set_state("failed")
            return
        if generation != self._load_generation:
            return
        self.generator = generator
        self._jobs.clear()
        log.info("model %s ready in %.1fs", model or "default", time.perf_counter() - started)
        if self.state != "training":
            self.set_state("ready")
        # The index's spelling postings are built now, in the background, rather than by the
        # first completion a user asks for.
        self._prepare_task = asyncio.get_running_loop().create_task(_prepare(generator))

    async def wait_ready(self) -> Generator | None:
        if self._load_task is not None and not self._load_task.done():
            await asyncio.shield(self._load_task)
        return self.generator

    def job(
        self,
        uri: str,
        prompt: str,
        context: str,
        *,
        beams: int | None,
        max_tokens: int | None,
    ) -> GenerationJob:
        """The job for this prompt in this document, started if new.

        A new prompt for the same document stops that document's older unfinished jobs.
        """
        key = (uri, prompt, context, beams, max_tokens)
        existing = self._jobs.get(key)
        if existing is not None and not (existing.done and existing.result() is None):
            self._jobs.move_to_end(key)
            return existing
        for other in self._jobs.values():
            if other.key[0] == uri and not other.done:
                other.stop.set()
        job = GenerationJob(key)
        job.task = asyncio.get_running_loop().create_task(
            self._generate(job, prompt, context, beams, max_tokens)
        )
        self._jobs[key] = job
        while len(self._jobs) > _KEEP_JOBS:
            self._jobs.popitem(last=False)
        return job

    async def _generate(
        self,
        job: GenerationJob,
        prompt: str,
        context: str,
        beams: int | None,
        max_tokens: int | None,
    ) -> GenerationResult | None:
        generator = await self.wait_ready()
        if generator is None:
            job.error = self.error or "the model is not loaded"
            return None
        async with self._lock:
            if job.stop.is_set():
                job.cancelled = True
                return None
            try:
                return await asyncio.to_thread(
                    _run_generation, generator, prompt, context, beams, max_tokens, job.stop
                )
            except _Cancelled:
                job.cancelled = True
                elapsed_ms = (time.perf_counter() - job.started) * 1000
                message = f"generation for {prompt[:60]!r} stopped after {elapsed_ms:.0f} ms"
                log.info(message)
                self._on_log(message)
                return None
            except Exception as exc:
                job.error = f"{type(exc).__name__}: {exc}"
                log.exception("generation for %r failed", prompt[:60])
                return None

    def stop_all(self) -> None:
        """Stop every unfinished decoding (at shutdown: the process must not wait for them)."""
        for job in self._jobs.values():
            if not job.done:
                job.stop.set()

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = dict(self.status())
        if self.generator is not None:
            try:
                info.update(self.generator.describe())
            except Exception as exc:  # describing must not break modelInfo
                info["describeError"] = str(exc)
        return info


class _Cancelled(Exception):
    pass


def _load_generator(model: str | None) -> Generator:
    from engine.generate import Generator

    return Generator.load(model)


async def _prepare(generator: Generator) -> None:
    started = time.perf_counter()
    try:
        await asyncio.to_thread(generator.prepare)
    except Exception:  # the first answer then builds what it needs itself
        log.exception("preparing the prompt index failed")
        return
    log.info("prompt index prepared in %.1fs", time.perf_counter() - started)


def _run_generation(
    generator: Generator,
    prompt: str,
    context: str,
    beams: int | None,
    max_tokens: int | None,
    stop: threading.Event,
) -> GenerationResult:
    from engine.generate import GenerationCancelled

    try:
        return generator.generate(
            prompt,
            context=context,
            beams=beams,
            max_new_tokens=max_tokens,
            should_stop=stop.is_set,
        )
    except GenerationCancelled as exc:
        raise _Cancelled() from exc
