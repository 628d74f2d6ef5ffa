# ruff: noqa: E501  (WGSL lines and prompt templates read better unbroken)
"""Helper-function and struct families: modules of one function (or declaration) that naga
accepts on their own, named the way shader authors name them."""

from __future__ import annotations

import math
import random

from engine.datagen.families import COLORS, Spec, f32_lit, num_text, vec3_lit


def _fn(
    family: str, code: str, train: tuple[str, ...], heldout: tuple[str, ...], w: float = 1.0
) -> Spec:
    return Spec(family, "function", code.strip() + "\n", train, heldout, ("function",), weight=w)


def function_specs(rng: random.Random) -> list[Spec]:
    specs: list[Spec] = []
    for name, rgb in COLORS.items():
        specs.append(
            _fn(
                "color_constant",
                f"const {name.upper()}: vec3<f32> = {vec3_lit(rgb)};",
                (
                    f"define a constant for the color {name}",
                    f"declare a {name} color constant",
                    f"make a const vec3 holding {name}",
                ),
                (f"const for {name}", f"store the rgb of {name} in a constant"),
            )
        )
    for label, weights in (
        ("rec. 709", "0.2126, 0.7152, 0.0722"),
        ("rec. 601", "0.299, 0.587, 0.114"),
    ):
        specs.append(
            _fn(
                "luminance",
                f"fn luminance(color: vec3<f32>) -> f32 {{\n    return dot(color, vec3<f32>({weights}));\n}}",
                (
                    f"compute the luminance of an rgb color with {label} weights",
                    f"return the {label} luma of a color",
                    f"get the perceived brightness of a color ({label})",
                    f"luminance function using {label} coefficients",
                ),
                (f"how bright is a color, using {label} coefficients",),
            )
        )
    specs.append(
        _fn(
            "hsv_to_rgb",
            """
fn hsv_to_rgb(c: vec3<f32>) -> vec3<f32> {
    let k = vec4<f32>(1.0, 2.0 / 3.0, 1.0 / 3.0, 3.0);
    let p = abs(fract(c.xxx + k.xyz) * 6.0 - k.www);
    return c.z * mix(k.xxx, clamp(p - k.xxx, vec3<f32>(0.0), vec3<f32>(1.0)), c.y);
}""",
            (
                "convert an hsv color to rgb",
                "hsv to rgb conversion",
                "turn hue, saturation and value into an rgb color",
                "hsv2rgb helper",
                "convert a color from hsv space to rgb space",
                "function hsv_to_rgb",
            ),
            ("go from hsv to rgb", "change a color from hue/sat/value to red/green/blue"),
        )
    )
    specs.append(
        _fn(
            "rgb_to_hsv",
            """
fn rgb_to_hsv(c: vec3<f32>) -> vec3<f32> {
    let k = vec4<f32>(0.0, -1.0 / 3.0, 2.0 / 3.0, -1.0);
    let p = mix(vec4<f32>(c.bg, k.wz), vec4<f32>(c.gb, k.xy), step(c.b, c.g));
    let q = mix(vec4<f32>(p.xyw, c.r), vec4<f32>(c.r, p.yzx), step(p.x, c.r));
    let d = q.x - min(q.w, q.y);
    let e = 1.0e-10;
    return vec3<f32>(abs(q.z + (q.w - q.y) / (6.0 * d + e)), d / (q.x + e), q.x);
}""",
            (
                "convert an rgb color to hsv",
                "rgb to hsv conversion",
                "turn an rgb color into hue, saturation and value",
                "rgb2hsv helper",
                "convert a color from rgb space to hsv space",
                "function rgb_to_hsv",
            ),
            ("go from rgb to hsv", "get the hue/sat/value of a red/green/blue color"),
        )
    )
    specs.append(
        _fn(
            "hash",
            """
fn hash(p: vec2<f32>) -> f32 {
    return fract(sin(dot(p, vec2<f32>(12.9898, 78.233))) * 43758.5453);
}""",
            (
                "hash a 2d point to a pseudo-random float",
                "sin-fract hash of a vec2",
                "random number from a 2d coordinate",
                "pseudo-random float in [0, 1) from a vec2 seed",
                "generate a random value from a 2d position",
            ),
            ("give me a cheap random value for a position",),
            w=1.5,
        )
    )
    specs.append(
        _fn(
            "hash",
            """
fn pcg_hash(input: u32) -> u32 {
    let state = input * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}""",
            (
                "pcg hash of a u32",
                "integer hash function for a u32 seed",
                "hash an unsigned integer with pcg",
                "pcg random number generator step",
            ),
            ("scramble an integer into a random-looking integer",),
        )
    )
    hash2 = """
fn hash(p: vec2<f32>) -> f32 {
    return fract(sin(dot(p, vec2<f32>(12.9898, 78.233))) * 43758.5453);
}

fn value_noise(p: vec2<f32>) -> f32 {
    let i = floor(p);
    let f = fract(p);
    let u = f * f * (3.0 - 2.0 * f);
    let a = hash(i);
    let b = hash(i + vec2<f32>(1.0, 0.0));
    let c = hash(i + vec2<f32>(0.0, 1.0));
    let d = hash(i + vec2<f32>(1.0, 1.0));
    return mix(mix(a, b, u.x), mix(c, d, u.x), u.y);
}"""
    specs.append(
        _fn(
            "noise",
            hash2,
            (
                "2d value noise function",
                "smooth value noise from a hashed grid",
                "compute value noise at a 2d point",
            ),
            ("perlin-like noise for a position",),
            w=1.5,
        )
    )
    for octaves in (3, 4, 5, 6, 8):
        specs.append(
            _fn(
                "noise",
                hash2
                + f"""

fn fbm(p: vec2<f32>) -> f32 {{
    var sum = 0.0;
    var amplitude = 0.5;
    var q = p;
    for (var i = 0; i < {octaves}; i++) {{
        sum += amplitude * value_noise(q);
        q = q * 2.0;
        amplitude = amplitude * 0.5;
    }}
    return sum;
}}""",
                (
                    f"fractal brownian motion with {octaves} octaves of value noise",
                    f"fbm noise, {octaves} octaves",
                ),
                (f"layered noise summing {octaves} levels",),
                w=0.4,
            )
        )
    specs.append(
        _fn(
            "rotation",
            """
fn rotate2d(angle: f32) -> mat2x2<f32> {
    let c = cos(angle);
    let s = sin(angle);
    return mat2x2<f32>(c, s, -s, c);
}""",
            (
                "2d rotation matrix for an angle",
                "build a mat2x2 that rotates by an angle in radians",
                "rotation matrix in 2d",
            ),
            ("matrix to spin 2d points by some angle",),
            w=2.0,
        )
    )
    for degrees in (30, 45, 60, 90, 180):
        rad = f32_lit(round(math.radians(degrees), 6))
        specs.append(
            _fn(
                "rotation",
                f"""
fn rotate(p: vec2<f32>) -> vec2<f32> {{
    let c = cos({rad});
    let s = sin({rad});
    return vec2<f32>(c * p.x - s * p.y, s * p.x + c * p.y);
}}""",
                (
                    f"rotate a 2d point by {degrees} degrees",
                    f"rotate a vec2 {degrees} degrees counter-clockwise",
                ),
                (f"turn a 2d vector by {degrees} degrees",),
                w=0.4,
            )
        )
    for axis, m in (
        ("x", "1.0, 0.0, 0.0, 0.0, c, s, 0.0, -s, c"),
        ("y", "c, 0.0, -s, 0.0, 1.0, 0.0, s, 0.0, c"),
        ("z", "c, s, 0.0, -s, c, 0.0, 0.0, 0.0, 1.0"),
    ):
        specs.append(
            _fn(
                "rotation",
                f"""
fn rotate_{axis}(angle: f32) -> mat3x3<f32> {{
    let c = cos(angle);
    let s = sin(angle);
    return mat3x3<f32>({m});
}}""",
                (
                    f"3d rotation matrix around the {axis} axis",
                    f"mat3x3 rotating by an angle about {axis}",
                ),
                (f"rotate things around the {axis} axis",),
                w=0.5,
            )
        )
    specs.append(
        _fn(
            "lighting",
            """
fn lambert(normal: vec3<f32>, light_dir: vec3<f32>) -> f32 {
    return max(dot(normalize(normal), normalize(light_dir)), 0.0);
}""",
            (
                "lambert diffuse term from a normal and a light direction",
                "diffuse lighting n dot l",
                "compute lambertian shading",
            ),
            ("how much light hits a surface (diffuse)",),
            w=2.0,
        )
    )
    for shininess in (8, 16, 32, 64, 128):
        specs.append(
            _fn(
                "lighting",
                f"""
fn blinn_phong(normal: vec3<f32>, light_dir: vec3<f32>, view_dir: vec3<f32>) -> f32 {{
    let h = normalize(light_dir + view_dir);
    return pow(max(dot(normalize(normal), h), 0.0), {shininess}.0);
}}""",
                (
                    f"blinn-phong specular term with shininess {shininess}",
                    f"specular highlight using the half vector, exponent {shininess}",
                ),
                (f"shiny highlight with power {shininess}",),
                w=0.4,
            )
        )
    specs.append(
        _fn(
            "lighting",
            """
fn fresnel_schlick(cos_theta: f32, f0: vec3<f32>) -> vec3<f32> {
    return f0 + (vec3<f32>(1.0) - f0) * pow(1.0 - cos_theta, 5.0);
}""",
            ("schlick fresnel approximation", "fresnel term with schlick's formula"),
            ("reflectance at grazing angles (schlick)",),
        )
    )
    for _ in range(6):
        names = list(COLORS)
        a = rng.choice(names)
        b = rng.choice([n for n in names if n != a])
        specs.append(
            _fn(
                "color_ramp",
                f"""
fn ramp(t: f32) -> vec3<f32> {{
    return mix({vec3_lit(COLORS[a])}, {vec3_lit(COLORS[b])}, clamp(t, 0.0, 1.0));
}}""",
                (
                    f"color ramp from {a} to {b}",
                    f"map t in [0, 1] to a color between {a} and {b}",
                    f"linear {a} to {b} ramp function",
                ),
                (f"palette that goes {a} to {b}",),
            )
        )
    specs.append(
        _fn(
            "remap",
            """
fn remap(x: f32, in_min: f32, in_max: f32, out_min: f32, out_max: f32) -> f32 {
    return out_min + (x - in_min) / (in_max - in_min) * (out_max - out_min);
}""",
            (
                "remap a value from one range to another",
                "linear remap of x from [in_min, in_max] to [out_min, out_max]",
            ),
            ("convert a number between two ranges",),
            w=1.5,
        )
    )
    for lo, hi in ((0.0, 1.0), (0.2, 0.8), (0.4, 0.6), (0.1, 0.9)):
        specs.append(
            _fn(
                "remap",
                f"""
fn ramp(x: f32) -> f32 {{
    return smoothstep({f32_lit(lo)}, {f32_lit(hi)}, x);
}}""",
                (
                    f"smooth ramp from {num_text(lo)} to {num_text(hi)}",
                    f"smoothstep ramp between {num_text(lo)} and {num_text(hi)}",
                ),
                (f"soft transition of x going from {num_text(lo)} up to {num_text(hi)}",),
                w=0.4,
            )
        )
    specs.append(
        _fn(
            "matrix",
            """
fn translation(offset: vec3<f32>) -> mat4x4<f32> {
    return mat4x4<f32>(
        vec4<f32>(1.0, 0.0, 0.0, 0.0),
        vec4<f32>(0.0, 1.0, 0.0, 0.0),
        vec4<f32>(0.0, 0.0, 1.0, 0.0),
        vec4<f32>(offset, 1.0),
    );
}""",
            (
                "build a 4x4 translation matrix",
                "translation matrix from an offset vector",
                "make a mat4x4 that translates by a vec3",
            ),
            ("matrix that moves points by an offset",),
        )
    )
    specs.append(
        _fn(
            "matrix",
            """
fn scaling(factor: vec3<f32>) -> mat4x4<f32> {
    return mat4x4<f32>(
        vec4<f32>(factor.x, 0.0, 0.0, 0.0),
        vec4<f32>(0.0, factor.y, 0.0, 0.0),
        vec4<f32>(0.0, 0.0, factor.z, 0.0),
        vec4<f32>(0.0, 0.0, 0.0, 1.0),
    );
}""",
            (
                "build a 4x4 scale matrix",
                "scaling matrix from per-axis factors",
                "make a mat4x4 that scales by a vec3",
            ),
            ("matrix that stretches points along each axis",),
        )
    )
    specs.append(
        _fn(
            "matrix",
            """
const IDENTITY: mat4x4<f32> = mat4x4<f32>(
    vec4<f32>(1.0, 0.0, 0.0, 0.0),
    vec4<f32>(0.0, 1.0, 0.0, 0.0),
    vec4<f32>(0.0, 0.0, 1.0, 0.0),
    vec4<f32>(0.0, 0.0, 0.0, 1.0),
);""",
            ("4x4 identity matrix constant", "declare the identity mat4x4"),
            ("a matrix that does nothing",),
        )
    )
    return specs


STRUCTS: tuple[tuple[str, str, tuple[tuple[str, str], ...], str], ...] = (
    (
        "Light",
        "a point light",
        (("position", "vec3<f32>"), ("color", "vec3<f32>"), ("intensity", "f32")),
        "position, color and intensity",
    ),
    (
        "Material",
        "a material",
        (("albedo", "vec3<f32>"), ("roughness", "f32"), ("metallic", "f32")),
        "albedo, roughness and metallic",
    ),
    (
        "Particle",
        "a particle",
        (("position", "vec2<f32>"), ("velocity", "vec2<f32>"), ("life", "f32")),
        "position, velocity and life",
    ),
    (
        "Camera",
        "a camera",
        (("view_proj", "mat4x4<f32>"), ("position", "vec3<f32>")),
        "a view-projection matrix and a position",
    ),
    (
        "Vertex",
        "a vertex",
        (("position", "vec3<f32>"), ("normal", "vec3<f32>"), ("uv", "vec2<f32>")),
        "position, normal and uv",
    ),
    ("Ray", "a ray", (("origin", "vec3<f32>"), ("direction", "vec3<f32>")), "origin and direction"),
    ("Sphere", "a sphere", (("center", "vec3<f32>"), ("radius", "f32")), "center and radius"),
)


def struct_specs(rng: random.Random) -> list[Spec]:
    specs: list[Spec] = []
    for name, what, fields, desc in STRUCTS:
        body = "\n".join(f"    {n}: {t}," for n, t in fields)
        specs.append(
            Spec(
                "struct",
                "struct",
                f"struct {name} {{\n{body}\n}}\n",
                (
                    f"define a struct for {what} with {desc}",
                    f"struct {name} holding {desc}",
                    f"declare a {name} struct: {desc}",
                ),
                (f"data type for {what} ({desc})",),
                ("struct",),
            )
        )
    for _ in range(5):
        dt = rng.choice((0.01, 0.016, 0.02, 0.1, 0.05))
        specs.append(
            Spec(
                "particles",
                "compute",
                "struct Particle {\n    position: vec2<f32>,\n    velocity: vec2<f32>,\n}\n\n"
                "@group(0) @binding(0) var<storage, read_write> particles: array<Particle>;\n\n"
                "@compute @workgroup_size(64)\n"
                "fn main(@builtin(global_invocation_id) gid: vec3<u32>) {\n"
                "    let i = gid.x;\n"
                "    if (i >= arrayLength(&particles)) {\n        return;\n    }\n"
                "    var p = particles[i];\n"
                f"    p.position = p.position + p.velocity * {f32_lit(dt)};\n"
                "    particles[i] = p;\n}\n",
                (
                    f"move {{each}} particle by its velocity times {num_text(dt)}",
                    f"update particle positions with a time step of {num_text(dt)}",
                    f"integrate particles: position += velocity * {num_text(dt)}",
                ),
                (f"advance all the particles one step of {num_text(dt)} seconds",),
                ("compute", "io:particles", "struct"),
            )
        )
    return specs
