# ruff: noqa: E501  (WGSL lines and prompt templates read better unbroken)
"""Render-pipeline families: fragment and vertex shaders, and compute writes to storage textures.

House style: a fragment shader is ``@fragment fn main(@location(0) uv: vec2<f32>) ->
@location(0) vec4<f32>`` with uv in [0, 1]; a vertex shader is ``@vertex fn main``; resources
live in ``@group(0)`` numbered from 0.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from engine.datagen.families import COLORS, Spec, f32_lit, num_text, vec3_lit

FRAG_HEAD = "@fragment\nfn main(@location(0) uv: vec2<f32>) -> @location(0) vec4<f32> {"


def fragment(body: Sequence[str], decls: Sequence[str] = ()) -> str:
    parts = [*decls, ""] if decls else []
    parts.append(FRAG_HEAD)
    parts.extend("    " + line for line in body)
    parts.append("}")
    return "\n".join(parts) + "\n"


def _two_colors(rng: random.Random) -> tuple[str, str]:
    names = list(COLORS)
    a = rng.choice(names)
    b = rng.choice([n for n in names if n != a])
    return a, b


def _rgba(name: str) -> str:
    r, g, b = COLORS[name]
    return f"vec4<f32>({f32_lit(r)}, {f32_lit(g)}, {f32_lit(b)}, 1.0)"


def fragment_specs(rng: random.Random) -> list[Spec]:
    specs: list[Spec] = []

    def add(
        family: str, code: str, train: tuple[str, ...], heldout: tuple[str, ...], w: float = 1.0
    ) -> None:
        specs.append(Spec(family, "fragment", code, train, heldout, ("fragment",), weight=w))

    for name in COLORS:
        add(
            "frag_solid",
            fragment([f"return {_rgba(name)};"]),
            (
                f"fill the screen with {name}",
                f"output solid {name}",
                f"color every pixel {name}",
                f"return a constant {name} color",
                f"paint everything {name}",
            ),
            (f"make the whole thing {name}", f"just draw {name}"),
        )
    for _ in range(10):
        a, b = _two_colors(rng)
        axis, words, held = rng.choice(
            (
                ("uv.x", ("horizontal", "left to right"), "across the screen"),
                ("uv.y", ("vertical", "top to bottom"), "from top to bottom"),
                ("(uv.x + uv.y) * 0.5", ("diagonal", "corner to corner"), "diagonally"),
            )
        )
        add(
            "frag_gradient",
            fragment(
                [
                    f"return vec4<f32>(mix({vec3_lit(COLORS[a])}, {vec3_lit(COLORS[b])}, {axis}), 1.0);"
                ]
            ),
            (
                f"draw a {words[0]} gradient from {a} to {b}",
                f"{words[1]} gradient between {a} and {b}",
                f"blend from {a} to {b} along a {words[0]} uv gradient",
            ),
            (f"fade from {a} to {b} {held}",),
        )
    add(
        "frag_gradient",
        fragment(["return vec4<f32>(uv, 0.0, 1.0);"]),
        ("visualize the uv coordinates as red and green", "output uv as a color"),
        ("show the texture coordinates as colors",),
    )
    for _ in range(10):
        a, b = _two_colors(rng)
        n = rng.choice((2, 4, 6, 8, 8, 8, 10, 12, 16, 20))
        train: tuple[str, ...] = (
            f"draw a {a} and {b} checkerboard with {n} squares per side",
            f"checkerboard pattern of {n} by {n} tiles in {a} and {b}",
            f"{a} and {b} checker pattern, {n} cells across",
        )
        heldout: tuple[str, ...] = (f"chessboard with {n} tiles across, {a} and {b}",)
        if n == 8:
            train += (f"draw a {a} and {b} checkerboard",)
            heldout += (f"shader that paints a {a}/{b} checkerboard",)
        add(
            "frag_checkerboard",
            fragment(
                [
                    f"let cell = vec2<u32>(floor(uv * {n}.0));",
                    "let checker = (cell.x + cell.y) % 2u;",
                    f"return select({_rgba(b)}, {_rgba(a)}, checker == 0u);",
                ]
            ),
            train,
            heldout,
        )
    for k in range(10):
        fg, bg = _two_colors(rng)
        r = rng.choice((0.1, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5))
        smooth = k % 3 == 2
        body = ["let d = distance(uv, vec2<f32>(0.5, 0.5));"]
        if smooth:
            body += [
                f"let inside = 1.0 - smoothstep({f32_lit(r)} - 0.01, {f32_lit(r)}, d);",
                f"return vec4<f32>(mix({vec3_lit(COLORS[bg])}, {vec3_lit(COLORS[fg])}, inside), 1.0);",
            ]
            train = (
                f"draw an anti-aliased {fg} circle of radius {num_text(r)} on {bg}",
                f"smooth-edged {fg} disc with radius {num_text(r)} over a {bg} background",
            )
            heldout = (f"soft {fg} dot of size {num_text(r)} in the middle on {bg}",)
        else:
            body += [
                f"if (d < {f32_lit(r)}) {{",
                f"    return {_rgba(fg)};",
                "}",
                f"return {_rgba(bg)};",
            ]
            train = (
                f"draw a {fg} circle of radius {num_text(r)} on a {bg} background",
                f"{fg} disc with radius {num_text(r)} centered on the screen over {bg}",
                f"circle sdf: {fg} inside radius {num_text(r)}, {bg} outside",
            )
            heldout = (f"paint a {fg} dot, size {num_text(r)}, in the middle on {bg}",)
        add("frag_circle", fragment(body), train, heldout)
    for _ in range(6):
        fg, bg = _two_colors(rng)
        w, h = rng.choice((0.1, 0.2, 0.25, 0.3)), rng.choice((0.1, 0.15, 0.2, 0.3, 0.4))
        add(
            "frag_box_sdf",
            fragment(
                [
                    f"let q = abs(uv - vec2<f32>(0.5, 0.5)) - vec2<f32>({f32_lit(w)}, {f32_lit(h)});",
                    "let d = length(max(q, vec2<f32>(0.0))) + min(max(q.x, q.y), 0.0);",
                    f"return select({_rgba(bg)}, {_rgba(fg)}, d < 0.0);",
                ]
            ),
            (
                f"draw a {fg} rectangle with half size {num_text(w)} by {num_text(h)} on {bg} using a box sdf",
                f"box signed distance field: {fg} box of half extents {num_text(w)}, {num_text(h)} over {bg}",
            ),
            (f"centered {fg} rectangle, {num_text(w)} by {num_text(h)} half-size, {bg} around it",),
        )
    tex_decls = [
        "@group(0) @binding(0) var tex: texture_2d<f32>;",
        "@group(0) @binding(1) var samp: sampler;",
    ]
    add(
        "frag_texture",
        fragment(["return textureSample(tex, samp, uv);"], tex_decls),
        (
            "sample a texture at the uv coordinates",
            "textured fragment shader with a texture and a sampler",
            "output the color of a texture",
            "read the texture with textureSample",
        ),
        ("display an image texture", "look up the texture color for this pixel"),
        w=2.0,
    )
    add(
        "frag_texture",
        fragment(["return textureSample(tex, samp, vec2<f32>(uv.x, 1.0 - uv.y));"], tex_decls),
        ("sample a texture flipped vertically", "sample the texture with the v coordinate flipped"),
        ("show the image upside down",),
    )
    add(
        "frag_texture",
        fragment(
            [
                "let c = textureSample(tex, samp, uv);",
                "let gray = dot(c.rgb, vec3<f32>(0.299, 0.587, 0.114));",
                "return vec4<f32>(vec3<f32>(gray), c.a);",
            ],
            tex_decls,
        ),
        ("sample a texture and convert it to grayscale", "grayscale texture sampling"),
        ("show a texture in black and white",),
    )
    for name in ("red", "blue", "green", "orange", "purple"):
        add(
            "frag_texture",
            fragment([f"return textureSample(tex, samp, uv) * {_rgba(name)};"], tex_decls),
            (f"sample a texture and tint it {name}", f"multiply the sampled texture by {name}"),
            (f"show the image with a {name} tint",),
            w=0.5,
        )
    for _ in range(6):
        inner = rng.choice((0.2, 0.25, 0.3, 0.35, 0.4))
        outer = inner + rng.choice((0.2, 0.3, 0.4))
        add(
            "frag_vignette",
            fragment(
                [
                    "let c = textureSample(tex, samp, uv);",
                    "let d = distance(uv, vec2<f32>(0.5, 0.5));",
                    f"let v = 1.0 - smoothstep({f32_lit(inner)}, {f32_lit(outer)}, d);",
                    "return vec4<f32>(c.rgb * v, c.a);",
                ],
                tex_decls,
            ),
            (
                f"apply a vignette to a texture fading from radius {num_text(inner)} to {num_text(outer)}",
                f"vignette effect with inner radius {num_text(inner)} and outer radius {num_text(outer)}",
                f"darken the edges of the texture between {num_text(inner)} and {num_text(outer)} from the center",
            ),
            (
                f"make the corners of the image darker, starting at {num_text(inner)} and black by {num_text(outer)}",
            ),
        )
    for _ in range(4):
        name = rng.choice(("white", "orange", "yellow", "cyan", "pink"))
        inner = rng.choice((0.2, 0.3, 0.4))
        outer = inner + 0.3
        add(
            "frag_vignette",
            fragment(
                [
                    "let d = distance(uv, vec2<f32>(0.5, 0.5));",
                    f"let v = 1.0 - smoothstep({f32_lit(inner)}, {f32_lit(outer)}, d);",
                    f"return vec4<f32>({vec3_lit(COLORS[name])} * v, 1.0);",
                ]
            ),
            (
                f"{name} screen with a vignette from {num_text(inner)} to {num_text(outer)}",
                f"draw {name} fading to black at the edges between radius {num_text(inner)} and {num_text(outer)}",
            ),
            (
                f"{name} glow in the center that goes dark toward the borders ({num_text(inner)} to {num_text(outer)})",
            ),
        )
    for _ in range(6):
        a, b = _two_colors(rng)
        n = rng.choice((4, 5, 8, 10, 16, 20))
        axis = rng.choice(("x", "y"))
        word = "vertical" if axis == "x" else "horizontal"
        add(
            "frag_stripes",
            fragment(
                [
                    f"let stripe = fract(uv.{axis} * {n}.0);",
                    f"return select({_rgba(b)}, {_rgba(a)}, stripe < 0.5);",
                ]
            ),
            (
                f"draw {n} {word} {a} and {b} stripes",
                f"{word} stripe pattern with {n} {a}/{b} stripes",
                f"alternate {a} and {b} in {n} {word} bands",
            ),
            (f"{n} {word} bars, {a} then {b}",),
        )
    for _ in range(4):
        name = rng.choice(list(COLORS)[:9])
        speed = rng.choice((1.0, 2.0, 3.0, 0.5, 4.0))
        add(
            "frag_pulse",
            fragment(
                [
                    f"let pulse = 0.5 + 0.5 * sin(frame.time * {f32_lit(speed)});",
                    f"return vec4<f32>({vec3_lit(COLORS[name])} * pulse, 1.0);",
                ],
                [
                    "struct Frame {\n    time: f32,\n}",
                    "",
                    "@group(0) @binding(0) var<uniform> frame: Frame;",
                ],
            ),
            (
                f"make a {name} color pulse over time at speed {num_text(speed)}",
                f"animate the brightness of {name} with a sine of the time uniform times {num_text(speed)}",
            ),
            (f"{name} that fades in and out, speed {num_text(speed)}",),
        )
    return specs


def vertex_specs(rng: random.Random) -> list[Spec]:
    specs: list[Spec] = []

    def add(
        family: str, code: str, train: tuple[str, ...], heldout: tuple[str, ...], w: float = 1.0
    ) -> None:
        specs.append(Spec(family, "vertex", code, train, heldout, ("vertex",), weight=w))

    add(
        "vert_passthrough",
        "@vertex\nfn main(@location(0) position: vec3<f32>) -> @builtin(position) vec4<f32> {\n"
        "    return vec4<f32>(position, 1.0);\n}\n",
        (
            "pass the vertex position through unchanged",
            "pass-through vertex shader for a vec3 position",
            "output the input position with w = 1",
        ),
        ("just forward the vertex positions", "simplest possible vertex shader"),
        w=2.0,
    )
    add(
        "vert_passthrough",
        "@vertex\nfn main(@location(0) position: vec2<f32>) -> @builtin(position) vec4<f32> {\n"
        "    return vec4<f32>(position, 0.0, 1.0);\n}\n",
        ("pass through a 2d vertex position", "pass-through vertex shader for vec2 positions"),
        ("forward 2d points to clip space",),
    )
    for attr, ty in (("color", "vec3<f32>"), ("uv", "vec2<f32>"), ("normal", "vec3<f32>")):
        add(
            "vert_passthrough",
            "struct VertexOutput {\n"
            "    @builtin(position) position: vec4<f32>,\n"
            f"    @location(0) {attr}: {ty},\n"
            "}\n\n"
            "@vertex\n"
            f"fn main(@location(0) position: vec3<f32>, @location(1) {attr}: {ty}) -> VertexOutput {{\n"
            "    var out: VertexOutput;\n"
            "    out.position = vec4<f32>(position, 1.0);\n"
            f"    out.{attr} = {attr};\n"
            "    return out;\n}\n",
            (
                f"pass the position and {attr} through to the fragment shader",
                f"vertex shader that forwards a per-vertex {attr}",
                f"pass-through vertex shader with a {attr} attribute",
            ),
            (f"send each vertex's {attr} along to the fragment stage",),
        )
    mvp = (
        "struct Uniforms {\n    mvp: mat4x4<f32>,\n}\n\n"
        "@group(0) @binding(0) var<uniform> uniforms: Uniforms;\n\n"
        "@vertex\nfn main(@location(0) position: vec3<f32>) -> @builtin(position) vec4<f32> {\n"
        "    return uniforms.mvp * vec4<f32>(position, 1.0);\n}\n"
    )
    add(
        "vert_mvp",
        mvp,
        (
            "transform the vertex position by an mvp matrix",
            "multiply the position by a model-view-projection uniform",
            "apply an mvp transform in the vertex shader",
            "project each vertex with a uniform mvp matrix",
            "mvp transform of a vec3 position",
        ),
        ("project vertices with a single combined matrix",),
        w=2.0,
    )
    add(
        "vert_mvp",
        "struct Uniforms {\n    model: mat4x4<f32>,\n    view: mat4x4<f32>,\n"
        "    projection: mat4x4<f32>,\n}\n\n"
        "@group(0) @binding(0) var<uniform> uniforms: Uniforms;\n\n"
        "@vertex\nfn main(@location(0) position: vec3<f32>) -> @builtin(position) vec4<f32> {\n"
        "    return uniforms.projection * uniforms.view * uniforms.model * vec4<f32>(position, 1.0);\n}\n",
        (
            "transform the position by separate model, view and projection matrices",
            "apply model then view then projection matrices to each vertex",
        ),
        ("project vertices using model, view and projection uniforms",),
    )
    add(
        "vert_fullscreen",
        "struct VertexOutput {\n    @builtin(position) position: vec4<f32>,\n"
        "    @location(0) uv: vec2<f32>,\n}\n\n"
        "@vertex\nfn main(@builtin(vertex_index) index: u32) -> VertexOutput {\n"
        "    let uv = vec2<f32>(f32((index << 1u) & 2u), f32(index & 2u));\n"
        "    var out: VertexOutput;\n"
        "    out.position = vec4<f32>(uv * 2.0 - 1.0, 0.0, 1.0);\n"
        "    out.uv = vec2<f32>(uv.x, 1.0 - uv.y);\n"
        "    return out;\n}\n",
        (
            "draw a full-screen triangle from the vertex index",
            "full-screen triangle vertex shader with uv output",
            "generate a fullscreen triangle without vertex buffers",
            "fullscreen pass vertex shader",
        ),
        ("cover the whole screen with one triangle", "vertex shader for post-processing"),
        w=2.0,
    )
    add(
        "vert_fullscreen",
        "@vertex\nfn main(@builtin(vertex_index) index: u32) -> @builtin(position) vec4<f32> {\n"
        "    var positions = array<vec2<f32>, 6>(\n"
        "        vec2<f32>(-1.0, -1.0),\n        vec2<f32>(1.0, -1.0),\n        vec2<f32>(-1.0, 1.0),\n"
        "        vec2<f32>(-1.0, 1.0),\n        vec2<f32>(1.0, -1.0),\n        vec2<f32>(1.0, 1.0),\n"
        "    );\n"
        "    return vec4<f32>(positions[index], 0.0, 1.0);\n}\n",
        (
            "full-screen quad from six hard-coded vertices",
            "draw a fullscreen quad as two triangles using the vertex index",
            "emit a screen-covering quad from a constant array of six positions",
        ),
        ("two triangles covering the screen, positions in an array",),
    )
    add(
        "vert_instanced",
        "@group(0) @binding(0) var<storage, read> offsets: array<vec2<f32>>;\n\n"
        "@vertex\nfn main(@location(0) position: vec2<f32>, @builtin(instance_index) instance: u32)"
        " -> @builtin(position) vec4<f32> {\n"
        "    return vec4<f32>(position + offsets[instance], 0.0, 1.0);\n}\n",
        (
            "offset each instance by a position from a storage buffer",
            "instanced vertex shader with per-instance offsets",
            "move every instance by its own offset read with the instance index",
            "draw instances shifted by offsets stored in a storage buffer",
            "add a per-instance vec2 offset to the vertex position",
        ),
        ("draw many copies of a mesh, each moved by its own offset",),
    )
    return specs


def storage_texture_specs(rng: random.Random) -> list[Spec]:
    specs: list[Spec] = []
    head = [
        "@compute @workgroup_size(8, 8)",
        "fn main(@builtin(global_invocation_id) gid: vec3<u32>) {",
        "    let size = textureDimensions(output);",
        "    if (gid.x >= size.x || gid.y >= size.y) {",
        "        return;",
        "    }",
    ]

    def module(fmt: str, body: Sequence[str], extra: Sequence[str] = ()) -> str:
        decls = [
            *extra,
            f"@group(0) @binding({len(extra)}) var output: texture_storage_2d<{fmt}, write>;",
        ]
        return "\n".join([*decls, "", *head, *("    " + b for b in body), "}"]) + "\n"

    def add(family: str, code: str, train: tuple[str, ...], heldout: tuple[str, ...]) -> None:
        specs.append(Spec(family, "compute", code, train, heldout, ("compute", "storage-texture")))

    for name in ("red", "blue", "green", "black", "white", "purple", "orange"):
        for fmt in ("rgba8unorm", "rgba16float"):
            r, g, b = COLORS[name]
            add(
                "storage_texture_fill",
                module(
                    fmt,
                    [
                        f"textureStore(output, vec2<i32>(gid.xy), vec4<f32>({f32_lit(r)}, {f32_lit(g)}, {f32_lit(b)}, 1.0));"
                    ],
                ),
                (
                    f"fill a {fmt} storage texture with {name}",
                    f"clear a storage texture to {name} ({fmt})",
                    f"write {name} to every texel of a {fmt} storage texture",
                ),
                (f"paint a {fmt} image {name} from a compute shader",),
            )
    for fmt in ("rgba8unorm", "rgba16float", "rgba32float"):
        add(
            "storage_texture_gradient",
            module(
                fmt,
                [
                    "let uv = vec2<f32>(gid.xy) / vec2<f32>(size);",
                    "textureStore(output, vec2<i32>(gid.xy), vec4<f32>(uv, 0.0, 1.0));",
                ],
            ),
            (
                f"write a uv gradient into a {fmt} storage texture",
                f"compute shader that fills a {fmt} storage texture with its normalized coordinates",
            ),
            (f"generate a red-green coordinate image of format {fmt} on the gpu",),
        )
    src = ["@group(0) @binding(0) var input: texture_2d<f32>;"]
    for fmt in ("rgba8unorm", "rgba16float"):
        add(
            "image_invert",
            module(
                fmt,
                [
                    "let c = textureLoad(input, vec2<i32>(gid.xy), 0);",
                    "textureStore(output, vec2<i32>(gid.xy), vec4<f32>(1.0 - c.rgb, c.a));",
                ],
                src,
            ),
            (
                f"invert an image from a texture into a {fmt} storage texture",
                f"read a texture and write its negative to a {fmt} storage texture",
                f"image inversion compute shader with a {fmt} storage texture output",
            ),
            (f"image negative filter, output format {fmt}",),
        )
        add(
            "image_grayscale",
            module(
                fmt,
                [
                    "let c = textureLoad(input, vec2<i32>(gid.xy), 0);",
                    "let gray = dot(c.rgb, vec3<f32>(0.299, 0.587, 0.114));",
                    "textureStore(output, vec2<i32>(gid.xy), vec4<f32>(vec3<f32>(gray), c.a));",
                ],
                src,
            ),
            (
                f"convert a texture to grayscale into a {fmt} storage texture",
                f"grayscale image filter writing to a {fmt} storage texture",
                f"write the luminance of each texel to a {fmt} storage texture",
            ),
            (f"make a black and white copy of an image ({fmt})",),
        )
        add(
            "image_blur",
            module(
                fmt,
                [
                    "var sum = vec4<f32>(0.0);",
                    "for (var dy = -1; dy <= 1; dy++) {",
                    "    for (var dx = -1; dx <= 1; dx++) {",
                    "        let p = clamp(vec2<i32>(gid.xy) + vec2<i32>(dx, dy), vec2<i32>(0), vec2<i32>(size) - 1);",
                    "        sum += textureLoad(input, p, 0);",
                    "    }",
                    "}",
                    "textureStore(output, vec2<i32>(gid.xy), sum / 9.0);",
                ],
                src,
            ),
            (
                f"3x3 box blur of a texture into a {fmt} storage texture",
                f"blur an image with a 3 by 3 box filter, writing a {fmt} storage texture",
                f"average each texel with its 8 neighbours into a {fmt} storage texture",
            ),
            (f"soften a picture by averaging each pixel with its neighbours ({fmt})",),
        )
    return specs
