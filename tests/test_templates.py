"""The chromatic templates run on the CPU adapter and give their documented results."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from engine.templates import (
    LUMINANCE_WEIGHTS,
    SATURATION_DEFAULT,
    TEMPLATES,
    NoTemplateError,
    Template,
    find_template,
    generate_from_prompt,
)

N = 1000  # not a multiple of the workgroup size: the bounds check matters
BY_NAME = {t.name: t for t in TEMPLATES}


@pytest.fixture(scope="module")
def device() -> Iterator[Any]:
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="xdg-"))
    import wgpu

    adapter = wgpu.gpu.request_adapter_sync(power_preference="low-power")
    yield adapter.request_device_sync()


def run(
    device: Any, template: Template, inputs: list[np.ndarray], **constants: float
) -> np.ndarray:
    """Dispatch ``template`` over ``inputs`` (N x 4 float32 each) and read the output back."""
    import wgpu

    module = device.create_shader_module(code=template.code)
    pipeline = device.create_compute_pipeline(
        layout="auto",
        compute={"module": module, "entry_point": template.entry_point, "constants": constants},
    )
    buffers = [
        device.create_buffer_with_data(data=x.astype(np.float32), usage=wgpu.BufferUsage.STORAGE)
        for x in inputs
    ]
    out = device.create_buffer(
        size=N * 16, usage=wgpu.BufferUsage.STORAGE | wgpu.BufferUsage.COPY_SRC
    )
    entries = [
        {"binding": i, "resource": {"buffer": b, "offset": 0, "size": b.size}}
        for i, b in enumerate([*buffers, out])
    ]
    bind_group = device.create_bind_group(layout=pipeline.get_bind_group_layout(0), entries=entries)
    encoder = device.create_command_encoder()
    compute = encoder.begin_compute_pass()
    compute.set_pipeline(pipeline)
    compute.set_bind_group(0, bind_group)
    compute.dispatch_workgroups((N + 63) // 64)
    compute.end()
    device.queue.submit([encoder.finish()])
    return np.frombuffer(device.queue.read_buffer(out), dtype=np.float32).reshape(N, 4)


def colours(seed: int) -> np.ndarray:
    """N random RGBA colours in [0, 1], plus the corners (black, white, pure primaries)."""
    rng = np.random.default_rng(seed)
    data = rng.random((N, 4), dtype=np.float32)
    data[:5] = [[0, 0, 0, 1], [1, 1, 1, 1], [1, 0, 0, 0.5], [0, 1, 0, 0], [0, 0, 1, 1]]
    return data


def test_mix_is_additive_and_clamped(device: Any) -> None:
    a, b = colours(1), colours(2)
    got = run(device, BY_NAME["mix"], [a, b])
    np.testing.assert_allclose(got, np.clip(a + b, 0, 1), atol=1e-6)
    assert (got == 1).any(), "some sums exceed 1 and must be clamped"
    np.testing.assert_array_equal(got[2], [1, 0, 0, 1])  # red (alpha 0.5) + the same red


def test_filter_multiplies(device: Any) -> None:
    a, b = colours(3), colours(4)
    got = run(device, BY_NAME["filter"], [a, b])
    np.testing.assert_allclose(got, a * b, atol=1e-6)
    np.testing.assert_array_equal(run(device, BY_NAME["filter"], [a, np.ones_like(a)]), a)


def test_complement_inverts_rgb_and_keeps_alpha(device: Any) -> None:
    a = colours(5)
    got = run(device, BY_NAME["complement"], [a])
    np.testing.assert_allclose(got[:, :3], 1 - a[:, :3], atol=1e-6)
    np.testing.assert_array_equal(got[:, 3], a[:, 3])
    np.testing.assert_allclose(got[2], [0, 1, 1, 0.5])  # red -> cyan


def expected_saturate(a: np.ndarray, factor: float) -> np.ndarray:
    lum = a[:, :3] @ np.array(LUMINANCE_WEIGHTS, dtype=np.float32)
    rgb = lum[:, None] + (a[:, :3] - lum[:, None]) * factor
    return np.concatenate([np.clip(rgb, 0, 1), a[:, 3:]], axis=1)


@pytest.mark.parametrize("factor", [None, 0.0, 0.5, 3.0])
def test_saturate_pushes_away_from_luminance(device: Any, factor: float | None) -> None:
    a = colours(6)
    constants = {} if factor is None else {"saturation": factor}
    got = run(device, BY_NAME["saturate"], [a], **constants)
    want = expected_saturate(a, SATURATION_DEFAULT if factor is None else factor)
    np.testing.assert_allclose(got, want, atol=1e-5)
    if factor == 0.0:  # fully desaturated: grey, every channel the luminance
        np.testing.assert_allclose(got[:, 0], got[:, 1], atol=1e-5)


def test_every_template_validates_with_naga() -> None:
    from engine.validator import validate_source

    for template in TEMPLATES:
        result = validate_source(template.code)
        assert result.valid, (template.name, result.diagnostics)


@pytest.mark.parametrize(
    ("prompt", "name"),
    [
        ("chromatic mix of two color buffers", "mix"),
        ("Blend two colour buffers additively", "mix"),
        ("mixing paint", "mix"),
        ("filter one colour buffer through another", "filter"),
        ("multiply the colors", "filter"),
        ("complementary colours of an image", "complement"),
        ("invert every colour", "complement"),
        ("inverted colors", "complement"),
        ("saturate the colours", "saturate"),
        ("increase the saturation", "saturate"),
        ("make colours more vivid", "saturate"),
        ("INVERT, then invert again, then blend", "complement"),  # more hits wins
        ("blend or invert", "mix"),  # a tie goes to the first keyword
    ],
)
def test_find_template_by_keyword(prompt: str, name: str) -> None:
    template = find_template(prompt)
    assert template is not None and template.name == name


@pytest.mark.parametrize(
    "prompt", ["compute shader that doubles every element", "desaturate", "address", ""]
)
def test_no_match(prompt: str) -> None:
    assert find_template(prompt) is None
    with pytest.raises(NoTemplateError) as info:
        generate_from_prompt(prompt)
    for template in TEMPLATES:
        assert template.name in str(info.value)
    assert "blend" in str(info.value)


def test_generate_from_prompt_returns_the_template_code() -> None:
    assert generate_from_prompt("a chromatic mix") == BY_NAME["mix"].code
