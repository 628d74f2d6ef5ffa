"""Run WGSL compute kernels on the CPU adapter and compare what they write.

Functional correctness of a generated compute kernel is decided by running it and the reference
kernel on the same deterministic inputs and comparing every buffer the reference writes. The
bindings are read from the WGSL itself: storage buffers of ``array<f32>``, ``array<u32>``,
``array<i32>``, ``array<vecN<f32>>`` and ``array<atomic<u32>>``, and uniforms (scalars, vectors
and structs of them). Inputs are filled from a seed derived from the binding slot, so two
kernels with the same interface see identical data. Uniform ``u32``/``i32`` fields carry the
element count (they are almost always lengths); ``f32`` fields cycle through fixed values.

Kernels with other resources (textures, samplers) or several compute entry points are
reported as not applicable rather than guessed at.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import tempfile
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.fit import Token, module_declarations, scan

log = logging.getLogger(__name__)

DEFAULT_ELEMENTS = 1000
_UNIFORM_F32_VALUES = (1.5, 0.25, 2.0, -0.5, 0.75, 3.0, -1.25, 0.125)

_SCALARS: dict[str, tuple[str, int]] = {
    "f32": ("f32", 1),
    "u32": ("u32", 1),
    "i32": ("i32", 1),
    "vec2f": ("f32", 2),
    "vec3f": ("f32", 3),
    "vec4f": ("f32", 4),
    "vec2u": ("u32", 2),
    "vec3u": ("u32", 3),
    "vec4u": ("u32", 4),
    "vec2i": ("i32", 2),
    "vec3i": ("i32", 3),
    "vec4i": ("i32", 4),
}
_DTYPES = {"f32": np.float32, "u32": np.uint32, "i32": np.int32}


class KernelError(Exception):
    """A kernel that cannot be run (unsupported interface, pipeline creation failed)."""


@dataclass(frozen=True)
class Field:
    """A scalar or vector inside a uniform: base scalar, component count, byte offset."""

    scalar: str
    components: int
    offset: int


@dataclass(frozen=True)
class Binding:
    """One resource of a kernel, as far as running it is concerned."""

    group: int
    binding: int
    name: str
    space: str  # "storage" | "uniform"
    writable: bool
    scalar: str  # element scalar type of an array, "" for uniforms
    components: int  # per array element
    stride: int  # bytes per array element
    length: int | None  # fixed array length, None for runtime-sized
    atomic: bool
    fields: tuple[Field, ...]  # uniform layout
    size: int  # uniform byte size

    @property
    def slot(self) -> tuple[int, int]:
        return (self.group, self.binding)


@dataclass(frozen=True)
class KernelSpec:
    entry_point: str
    workgroup_size: tuple[int, int, int]
    bindings: tuple[Binding, ...]


def _type_text(tokens: list[Token], start: int) -> tuple[str, int]:
    """Join the tokens of a type starting at ``start`` up to a top-level ``;``, ``,`` or ``}``."""
    depth = 0
    parts: list[str] = []
    i = start
    while i < len(tokens):
        t = tokens[i].text
        if t == "<":
            depth += 1
        elif t == ">":
            depth -= 1
        elif t == ">>":
            depth -= 2
        if depth <= 0 and t in (";", ",", "}", "=", ")") and not (t == "," and depth > 0):
            break
        parts.append(t)
        i += 1
    return "".join(parts), i


def _scalar_of(type_text: str) -> tuple[str, int] | None:
    """(scalar, components) of ``f32``, ``vec4<f32>``, ``vec4f``; None for anything else."""
    if type_text in _SCALARS:
        return _SCALARS[type_text]
    for n in (2, 3, 4):
        prefix = f"vec{n}<"
        if type_text.startswith(prefix) and type_text.endswith(">"):
            inner = type_text[len(prefix) : -1]
            if inner in _DTYPES:
                return inner, n
    return None


def _align_size(components: int) -> tuple[int, int]:
    if components == 1:
        return 4, 4
    if components == 2:
        return 8, 8
    return 16, 4 * components


def _structs(tokens: list[Token]) -> dict[str, list[tuple[str, str]]]:
    """Module-scope structs: name -> [(member, type text)]."""
    out: dict[str, list[tuple[str, str]]] = {}
    for decl in module_declarations(tokens):
        if decl.keyword != "struct":
            continue
        i = decl.name_token + 1
        if i >= len(tokens) or tokens[i].text != "{":
            continue
        i += 1
        members: list[tuple[str, str]] = []
        while i < len(tokens) and tokens[i].text != "}":
            if tokens[i].text == "@":
                i += 2
                if i < len(tokens) and tokens[i].text == "(":
                    while i < len(tokens) and tokens[i].text != ")":
                        i += 1
                    i += 1
                continue
            if tokens[i].kind == "ident" and i + 1 < len(tokens) and tokens[i + 1].text == ":":
                member_name = tokens[i].text
                type_text, i = _type_text(tokens, i + 2)
                members.append((member_name, type_text))
            if i < len(tokens) and tokens[i].text != "}":
                i += 1
        out[decl.name] = members
    return out


def _uniform_layout(
    type_text: str, structs: dict[str, list[tuple[str, str]]]
) -> tuple[tuple[Field, ...], int]:
    scalar = _scalar_of(type_text)
    if scalar is not None:
        align, size = _align_size(scalar[1])
        return (Field(scalar[0], scalar[1], 0),), max(16, size)
    if type_text not in structs:
        raise KernelError(f"uniform of unsupported type {type_text}")
    fields: list[Field] = []
    offset = 0
    struct_align = 4
    for _name, member_type in structs[type_text]:
        member = _scalar_of(member_type)
        if member is None:
            raise KernelError(f"uniform member of unsupported type {member_type}")
        align, size = _align_size(member[1])
        struct_align = max(struct_align, align)
        offset = math.ceil(offset / align) * align
        fields.append(Field(member[0], member[1], offset))
        offset += size
    size = math.ceil(offset / 16) * 16
    return tuple(fields), max(size, 16)


def _array_element(type_text: str) -> tuple[str, int, int, int | None, bool]:
    """(scalar, components, stride, fixed length, atomic) of an ``array<...>`` type."""
    if not (type_text.startswith("array<") and type_text.endswith(">")):
        raise KernelError(f"storage buffer of unsupported type {type_text}")
    inner = type_text[len("array<") : -1]
    length: int | None = None
    depth = 0
    for k, ch in enumerate(inner):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "," and depth == 0:
            length_text = inner[k + 1 :].rstrip("u").rstrip("i")
            try:
                length = int(length_text)
            except ValueError:
                raise KernelError(f"array length {inner[k + 1 :]} is not a literal") from None
            inner = inner[:k]
            break
    atomic = False
    if inner.startswith("atomic<") and inner.endswith(">"):
        atomic = True
        inner = inner[len("atomic<") : -1]
    element = _scalar_of(inner)
    if element is None:
        raise KernelError(f"array element of unsupported type {inner}")
    align, size = _align_size(element[1])
    stride = math.ceil(size / align) * align
    return element[0], element[1], stride, length, atomic


def describe_kernel(source: str) -> KernelSpec:
    """Entry point, workgroup size and bindings of a compute shader; raises KernelError."""
    tokens = scan(source)
    structs = _structs(tokens)
    entry: str | None = None
    workgroup = (1, 1, 1)
    entries = 0
    for i, tok in enumerate(tokens):
        if tok.text == "compute" and i > 0 and tokens[i - 1].text == "@":
            entries += 1
            j = i + 1
            while j < len(tokens) and tokens[j].text != "fn":
                if tokens[j].text == "workgroup_size":
                    sizes: list[int] = []
                    k = j + 2
                    while k < len(tokens) and tokens[k].text != ")":
                        if tokens[k].kind == "number":
                            sizes.append(int(tokens[k].text.rstrip("iu"), 0))
                        elif tokens[k].kind == "ident":
                            raise KernelError("workgroup size given by a constant")
                        k += 1
                    sizes += [1] * (3 - len(sizes))
                    workgroup = (sizes[0], sizes[1], sizes[2])
                j += 1
            if j + 1 < len(tokens):
                entry = tokens[j + 1].text
    if entry is None:
        raise KernelError("no @compute entry point")
    if entries > 1:
        raise KernelError("several compute entry points")
    bindings: list[Binding] = []
    for decl in module_declarations(tokens):
        if decl.keyword != "var" or decl.group is None or decl.binding is None:
            continue
        var_index = decl.name_token - 1
        qualifiers: list[str] = []
        if tokens[var_index].text == ">":
            k = var_index - 1
            while tokens[k].text != "<":
                if tokens[k].kind == "ident":
                    qualifiers.insert(0, tokens[k].text)
                k -= 1
        if not qualifiers:
            raise KernelError(f"resource {decl.name} is not a buffer (texture or sampler)")
        type_text, _ = _type_text(tokens, decl.name_token + 2)
        space = qualifiers[0]
        if space == "uniform":
            fields, size = _uniform_layout(type_text, structs)
            bindings.append(
                Binding(
                    decl.group,
                    decl.binding,
                    decl.name,
                    "uniform",
                    False,
                    "",
                    0,
                    0,
                    None,
                    False,
                    fields,
                    size,
                )
            )
        elif space == "storage":
            scalar, components, stride, length, atomic = _array_element(type_text)
            writable = "read_write" in qualifiers
            bindings.append(
                Binding(
                    decl.group,
                    decl.binding,
                    decl.name,
                    "storage",
                    writable,
                    scalar,
                    components,
                    stride,
                    length,
                    atomic,
                    (),
                    0,
                )
            )
        else:
            raise KernelError(f"resource {decl.name} in unsupported address space {space}")
    return KernelSpec(entry, workgroup, tuple(bindings))


def _fill_array(b: Binding, count: int) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(1009 + 31 * b.group + b.binding)
    per = b.stride // 4
    if b.atomic:
        return np.zeros(count * per, dtype=_DTYPES[b.scalar])
    if b.scalar == "f32":
        values = np.round(rng.uniform(-4.0, 4.0, count * per) * 8.0) / 8.0
        values[values == 0.0] = 0.125
        return values.astype(np.float32)
    if b.scalar == "u32":
        return rng.integers(0, 256, count * per).astype(np.uint32)
    return rng.integers(-100, 100, count * per).astype(np.int32)


def _fill_uniform(b: Binding, count: int) -> bytes:
    data = bytearray(b.size)
    f32_index = 0
    for f in b.fields:
        for c in range(f.components):
            at = f.offset + 4 * c
            if f.scalar == "f32":
                value = _UNIFORM_F32_VALUES[f32_index % len(_UNIFORM_F32_VALUES)]
                f32_index += 1
                data[at : at + 4] = np.float32(value).tobytes()
            elif f.scalar == "u32":
                data[at : at + 4] = np.uint32(count).tobytes()
            else:
                data[at : at + 4] = np.int32(count).tobytes()
    return bytes(data)


@dataclass(frozen=True)
class KernelOutputs:
    """What a kernel wrote: slot -> array of the buffer's scalar type."""

    buffers: dict[tuple[int, int], np.ndarray[Any, Any]]


class KernelRunner:
    """Owns one wgpu device on a CPU adapter (lavapipe, else whatever exists); thread-safe."""

    def __init__(self, elements: int = DEFAULT_ELEMENTS) -> None:
        self.elements = elements
        self._device: Any = None
        self.adapter_name = ""
        self._lock = threading.Lock()
        self._cache: dict[str, KernelOutputs | KernelError] = {}

    def _get_device(self) -> Any:
        if self._device is None:
            if not os.environ.get("XDG_RUNTIME_DIR"):
                runtime = os.path.join(tempfile.gettempdir(), f"wgpu-runtime-{os.getuid()}")
                os.makedirs(runtime, mode=0o700, exist_ok=True)
                os.environ["XDG_RUNTIME_DIR"] = runtime
            if importlib.util.find_spec("triton") is not None:
                # triton (which CUDA builds of PyTorch ship, and torch.compile imports) carries
                # its own LLVM; imported after a Mesa adapter (lavapipe, llvmpipe: LLVM too) is
                # up, its library crashes the process. Loaded first, both work.
                import triton  # noqa: F401
            import wgpu

            adapter = wgpu.gpu.request_adapter_sync(power_preference="high-performance")
            info = adapter.info
            self.adapter_name = f"{info.get('device', '?')} ({info.get('backend_type', '?')})"
            self._device = adapter.request_device_sync()
        return self._device

    def run(self, source: str) -> KernelOutputs:
        """Run ``source`` once over ``elements`` items; returns every writable buffer.

        Results (and failures) are cached by source text: kernels are deterministic here, and
        an evaluation runs each reference many times."""
        with self._lock:
            cached = self._cache.get(source)
            if cached is None:
                try:
                    cached = self._run(source, describe_kernel(source))
                except KernelError as exc:
                    cached = exc
                if len(self._cache) > 4096:
                    self._cache.clear()
                self._cache[source] = cached
        if isinstance(cached, KernelError):
            raise cached
        return cached

    def runnable(self, source: str) -> bool:
        """Whether ``source`` is a compute kernel this runner can run and that writes a buffer."""
        try:
            return bool(self.run(source).buffers)
        except KernelError:
            return False

    def _run(self, source: str, spec: KernelSpec) -> KernelOutputs:
        import wgpu

        device = self._get_device()
        n = self.elements
        try:
            module = device.create_shader_module(code=source)
            pipeline = device.create_compute_pipeline(
                layout="auto", compute={"module": module, "entry_point": spec.entry_point}
            )
        except Exception as exc:
            raise KernelError(f"pipeline creation failed: {str(exc).strip()[:300]}") from None
        usage = wgpu.BufferUsage.STORAGE | wgpu.BufferUsage.COPY_SRC | wgpu.BufferUsage.COPY_DST
        buffers: dict[tuple[int, int], Any] = {}
        dtypes: dict[tuple[int, int], Any] = {}
        for b in spec.bindings:
            if b.space == "uniform":
                data = _fill_uniform(b, n)
                buffers[b.slot] = device.create_buffer_with_data(
                    data=data, usage=wgpu.BufferUsage.UNIFORM | wgpu.BufferUsage.COPY_DST
                )
            else:
                array = _fill_array(b, b.length if b.length is not None else n)
                buffers[b.slot] = device.create_buffer_with_data(data=array.tobytes(), usage=usage)
                dtypes[b.slot] = array.dtype
        groups = sorted({b.group for b in spec.bindings})
        encoder = device.create_command_encoder()
        compute = encoder.begin_compute_pass()
        compute.set_pipeline(pipeline)
        try:
            for g in groups:
                entries = [
                    {
                        "binding": b.binding,
                        "resource": {
                            "buffer": buffers[b.slot],
                            "offset": 0,
                            "size": buffers[b.slot].size,
                        },
                    }
                    for b in spec.bindings
                    if b.group == g
                ]
                group = device.create_bind_group(
                    layout=pipeline.get_bind_group_layout(g), entries=entries
                )
                compute.set_bind_group(g, group)
        except Exception as exc:
            compute.end()
            raise KernelError(f"bindings do not match the pipeline: {str(exc)[:300]}") from None
        wx = max(spec.workgroup_size[0], 1)
        compute.dispatch_workgroups(max(1, math.ceil(n / wx)), 1, 1)
        compute.end()
        device.queue.submit([encoder.finish()])
        out: dict[tuple[int, int], np.ndarray[Any, Any]] = {}
        for b in spec.bindings:
            if b.space == "storage" and b.writable:
                raw = device.queue.read_buffer(buffers[b.slot])
                out[b.slot] = np.frombuffer(raw, dtype=dtypes[b.slot]).copy()
        return KernelOutputs(out)


@dataclass(frozen=True)
class FunctionalOutcome:
    """``applicable`` is False when the reference is not a runnable compute kernel."""

    applicable: bool
    passed: bool
    reason: str


def compare_kernels(
    runner: KernelRunner, generated: str, reference: str, rtol: float = 1e-4, atol: float = 1e-5
) -> FunctionalOutcome:
    """Run both kernels on the same inputs; pass when every buffer the reference writes holds
    the same values (allclose, NaN equal to NaN) in the generated kernel's run."""
    try:
        expected = runner.run(reference)
    except KernelError as exc:
        return FunctionalOutcome(False, False, f"reference not runnable: {exc}")
    if not expected.buffers:
        return FunctionalOutcome(False, False, "reference writes no buffer")
    try:
        actual = runner.run(generated)
    except KernelError as exc:
        return FunctionalOutcome(True, False, f"generated kernel not runnable: {exc}")
    for slot, want in expected.buffers.items():
        got = actual.buffers.get(slot)
        if got is None:
            return FunctionalOutcome(True, False, f"no writable buffer at {slot}")
        if got.dtype != want.dtype or got.shape != want.shape:
            return FunctionalOutcome(True, False, f"buffer {slot} has another type or size")
        if want.dtype == np.float32:
            same = np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
        else:
            same = bool(np.array_equal(got, want))
        if not same:
            return FunctionalOutcome(True, False, f"buffer {slot} differs")
    return FunctionalOutcome(True, True, "outputs match")
