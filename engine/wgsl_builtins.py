# ruff: noqa: E501  (the tables below keep one built-in per line)
"""WGSL's built-in functions, types, keywords and attributes, with one-line descriptions.

The language server uses this table for hover, completion (argument snippets come from the
parameter names of the first signature) and signature help. Signatures follow the WGSL
specification's notation: ``T`` is a scalar or vector type, ``S`` a scalar, ``N`` a vector size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class BuiltinFunction:
    """One built-in function; ``signatures`` lists its overloads, most common first."""

    name: str
    signatures: tuple[str, ...]
    description: str

    @property
    def parameters(self) -> tuple[str, ...]:
        """The parameter names of the first overload, for snippets and signature help."""
        return signature_parameters(self.signatures[0])


@dataclass(frozen=True)
class BuiltinType:
    name: str
    description: str
    generic: bool = False


def signature_parameters(signature: str) -> tuple[str, ...]:
    """``"clamp(e: T, low: T, high: T) -> T"`` -> ``("e: T", "low: T", "high: T")``."""
    open_paren = signature.find("(")
    depth = 0
    for index in range(open_paren, len(signature)):
        if signature[index] in "(<":
            depth += 1
        elif signature[index] in ")>" and signature[index - 1] != "-":
            depth -= 1
            if depth == 0:
                inner = signature[open_paren + 1 : index]
                break
    else:
        return ()
    parts: list[str] = []
    depth = 0
    current = ""
    for char in inner:
        if char in "(<":
            depth += 1
        elif char in ")>":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return tuple(parts)


# name | signature; signature; ... | description
_FUNCTION_TABLE = """
all | all(e: vecN<bool>) -> bool; all(e: bool) -> bool | True if every component of e is true.
any | any(e: vecN<bool>) -> bool; any(e: bool) -> bool | True if any component of e is true.
select | select(f: T, t: T, cond: bool) -> T; select(f: vecN<T>, t: vecN<T>, cond: vecN<bool>) -> vecN<T> | Returns t when cond is true, otherwise f (component-wise for vectors).
arrayLength | arrayLength(p: ptr<storage, array<E>, AM>) -> u32 | Number of elements in a runtime-sized array.
abs | abs(e: T) -> T | Absolute value, component-wise.
acos | acos(e: T) -> T | Arc cosine in radians.
acosh | acosh(e: T) -> T | Inverse hyperbolic cosine.
asin | asin(e: T) -> T | Arc sine in radians.
asinh | asinh(e: T) -> T | Inverse hyperbolic sine.
atan | atan(e: T) -> T | Arc tangent in radians.
atanh | atanh(e: T) -> T | Inverse hyperbolic tangent.
atan2 | atan2(y: T, x: T) -> T | Arc tangent of y/x, using the signs of both to pick the quadrant.
ceil | ceil(e: T) -> T | Rounds up to the nearest whole number.
clamp | clamp(e: T, low: T, high: T) -> T | Restricts e to the range [low, high].
cos | cos(e: T) -> T | Cosine of an angle in radians.
cosh | cosh(e: T) -> T | Hyperbolic cosine.
countLeadingZeros | countLeadingZeros(e: T) -> T | Number of consecutive 0 bits from the most significant bit.
countOneBits | countOneBits(e: T) -> T | Number of 1 bits.
countTrailingZeros | countTrailingZeros(e: T) -> T | Number of consecutive 0 bits from the least significant bit.
cross | cross(e1: vec3<T>, e2: vec3<T>) -> vec3<T> | Cross product of two 3-component vectors.
degrees | degrees(e: T) -> T | Converts radians to degrees.
determinant | determinant(e: matCxC<T>) -> T | Determinant of a square matrix.
distance | distance(e1: T, e2: T) -> S | Distance between two points.
dot | dot(e1: vecN<T>, e2: vecN<T>) -> T | Dot product of two vectors.
dot4U8Packed | dot4U8Packed(e1: u32, e2: u32) -> u32 | Dot product of four packed unsigned 8-bit integers.
dot4I8Packed | dot4I8Packed(e1: u32, e2: u32) -> i32 | Dot product of four packed signed 8-bit integers.
exp | exp(e: T) -> T | Natural exponentiation (e raised to the power e).
exp2 | exp2(e: T) -> T | 2 raised to the power e.
extractBits | extractBits(e: T, offset: u32, count: u32) -> T | Reads count bits starting at offset (sign-extended for signed types).
faceForward | faceForward(e1: T, e2: T, e3: T) -> T | Returns e1 if dot(e2, e3) is negative, otherwise -e1.
firstLeadingBit | firstLeadingBit(e: T) -> T | Index of the most significant 1 bit (sign bit aware for signed types).
firstTrailingBit | firstTrailingBit(e: T) -> T | Index of the least significant 1 bit.
floor | floor(e: T) -> T | Rounds down to the nearest whole number.
fma | fma(e1: T, e2: T, e3: T) -> T | Fused multiply-add: e1 * e2 + e3.
fract | fract(e: T) -> T | Fractional part: e - floor(e).
frexp | frexp(e: T) -> __frexp_result | Splits e into a significand in [0.5, 1) and an exponent.
insertBits | insertBits(e: T, newbits: T, offset: u32, count: u32) -> T | Replaces count bits of e at offset with bits of newbits.
inverseSqrt | inverseSqrt(e: T) -> T | 1 / sqrt(e).
ldexp | ldexp(e1: T, e2: I) -> T | e1 * 2^e2.
length | length(e: T) -> S | Length (magnitude) of a vector.
log | log(e: T) -> T | Natural logarithm.
log2 | log2(e: T) -> T | Base-2 logarithm.
max | max(e1: T, e2: T) -> T | Larger of two values, component-wise.
min | min(e1: T, e2: T) -> T | Smaller of two values, component-wise.
mix | mix(e1: T, e2: T, e3: T) -> T; mix(e1: vecN<T>, e2: vecN<T>, e3: T) -> vecN<T> | Linear blend: e1 * (1 - e3) + e2 * e3.
modf | modf(e: T) -> __modf_result | Splits e into fractional and whole parts.
normalize | normalize(e: vecN<T>) -> vecN<T> | Unit vector in the direction of e.
pow | pow(e1: T, e2: T) -> T | e1 raised to the power e2.
quantizeToF16 | quantizeToF16(e: T) -> T | Rounds an f32 as if stored as f16 and read back.
radians | radians(e: T) -> T | Converts degrees to radians.
reflect | reflect(e1: T, e2: T) -> T | Reflection of incident e1 about the surface normal e2.
refract | refract(e1: vecN<T>, e2: vecN<T>, e3: T) -> vecN<T> | Refraction of e1 through normal e2 with ratio of indices e3.
reverseBits | reverseBits(e: T) -> T | Reverses the bits.
round | round(e: T) -> T | Rounds to the nearest whole number, ties to even.
saturate | saturate(e: T) -> T | clamp(e, 0.0, 1.0).
sign | sign(e: T) -> T | -1, 0 or 1 by the sign of e.
sin | sin(e: T) -> T | Sine of an angle in radians.
sinh | sinh(e: T) -> T | Hyperbolic sine.
smoothstep | smoothstep(low: T, high: T, x: T) -> T | Smooth Hermite interpolation between 0 and 1 as x goes from low to high.
sqrt | sqrt(e: T) -> T | Square root.
step | step(edge: T, x: T) -> T | 1.0 if edge <= x, otherwise 0.0.
tan | tan(e: T) -> T | Tangent of an angle in radians.
tanh | tanh(e: T) -> T | Hyperbolic tangent.
transpose | transpose(e: matRxC<T>) -> matCxR<T> | Transpose of a matrix.
trunc | trunc(e: T) -> T | Rounds toward zero.
dpdx | dpdx(e: T) -> T | Partial derivative of e with respect to window x (fragment stage only).
dpdxCoarse | dpdxCoarse(e: T) -> T | Coarse partial derivative with respect to window x.
dpdxFine | dpdxFine(e: T) -> T | Fine partial derivative with respect to window x.
dpdy | dpdy(e: T) -> T | Partial derivative of e with respect to window y (fragment stage only).
dpdyCoarse | dpdyCoarse(e: T) -> T | Coarse partial derivative with respect to window y.
dpdyFine | dpdyFine(e: T) -> T | Fine partial derivative with respect to window y.
fwidth | fwidth(e: T) -> T | abs(dpdx(e)) + abs(dpdy(e)).
fwidthCoarse | fwidthCoarse(e: T) -> T | fwidth using coarse derivatives.
fwidthFine | fwidthFine(e: T) -> T | fwidth using fine derivatives.
textureDimensions | textureDimensions(t: T) -> vecN<u32>; textureDimensions(t: T, level: L) -> vecN<u32> | Size of a texture (or one of its mip levels) in texels.
textureGather | textureGather(component: C, t: texture_2d<T>, s: sampler, coords: vec2<f32>) -> vec4<T> | Gathers one component from the four texels a bilinear sample would use.
textureGatherCompare | textureGatherCompare(t: texture_depth_2d, s: sampler_comparison, coords: vec2<f32>, depth_ref: f32) -> vec4<f32> | Depth comparison of the four texels a bilinear sample would use.
textureLoad | textureLoad(t: T, coords: vecN<C>, level: L) -> vec4<S> | Reads one texel without sampling or filtering.
textureNumLayers | textureNumLayers(t: T) -> u32 | Number of layers of an array texture.
textureNumLevels | textureNumLevels(t: T) -> u32 | Number of mip levels.
textureNumSamples | textureNumSamples(t: T) -> u32 | Samples per texel of a multisampled texture.
textureSample | textureSample(t: texture_2d<f32>, s: sampler, coords: vec2<f32>) -> vec4<f32> | Samples a texture with filtering (fragment stage only).
textureSampleBias | textureSampleBias(t: texture_2d<f32>, s: sampler, coords: vec2<f32>, bias: f32) -> vec4<f32> | Samples with a bias added to the mip level.
textureSampleCompare | textureSampleCompare(t: texture_depth_2d, s: sampler_comparison, coords: vec2<f32>, depth_ref: f32) -> f32 | Samples a depth texture and compares with depth_ref.
textureSampleCompareLevel | textureSampleCompareLevel(t: texture_depth_2d, s: sampler_comparison, coords: vec2<f32>, depth_ref: f32) -> f32 | Depth comparison on mip level 0; usable in any stage.
textureSampleGrad | textureSampleGrad(t: texture_2d<f32>, s: sampler, coords: vec2<f32>, ddx: vec2<f32>, ddy: vec2<f32>) -> vec4<f32> | Samples using explicit gradients.
textureSampleLevel | textureSampleLevel(t: texture_2d<f32>, s: sampler, coords: vec2<f32>, level: f32) -> vec4<f32> | Samples an explicit mip level; usable in any stage.
textureSampleBaseClampToEdge | textureSampleBaseClampToEdge(t: texture_2d<f32>, s: sampler, coords: vec2<f32>) -> vec4<f32> | Samples mip level 0 with coordinates clamped to the edge.
textureStore | textureStore(t: texture_storage_2d<F, write>, coords: vec2<C>, value: vec4<T>) | Writes one texel to a storage texture.
atomicLoad | atomicLoad(atomic_ptr: ptr<AS, atomic<T>, read_write>) -> T | Atomically reads the value.
atomicStore | atomicStore(atomic_ptr: ptr<AS, atomic<T>, read_write>, v: T) | Atomically stores v.
atomicAdd | atomicAdd(atomic_ptr: ptr<AS, atomic<T>, read_write>, v: T) -> T | Atomically adds v; returns the old value.
atomicSub | atomicSub(atomic_ptr: ptr<AS, atomic<T>, read_write>, v: T) -> T | Atomically subtracts v; returns the old value.
atomicMax | atomicMax(atomic_ptr: ptr<AS, atomic<T>, read_write>, v: T) -> T | Atomic maximum; returns the old value.
atomicMin | atomicMin(atomic_ptr: ptr<AS, atomic<T>, read_write>, v: T) -> T | Atomic minimum; returns the old value.
atomicAnd | atomicAnd(atomic_ptr: ptr<AS, atomic<T>, read_write>, v: T) -> T | Atomic bitwise and; returns the old value.
atomicOr | atomicOr(atomic_ptr: ptr<AS, atomic<T>, read_write>, v: T) -> T | Atomic bitwise or; returns the old value.
atomicXor | atomicXor(atomic_ptr: ptr<AS, atomic<T>, read_write>, v: T) -> T | Atomic bitwise xor; returns the old value.
atomicExchange | atomicExchange(atomic_ptr: ptr<AS, atomic<T>, read_write>, v: T) -> T | Atomically replaces the value with v; returns the old value.
atomicCompareExchangeWeak | atomicCompareExchangeWeak(atomic_ptr: ptr<AS, atomic<T>, read_write>, cmp: T, v: T) -> __atomic_compare_exchange_result<T> | Stores v if the value equals cmp; may fail spuriously.
pack4x8snorm | pack4x8snorm(e: vec4<f32>) -> u32 | Packs four normalized signed floats into 8-bit integers.
pack4x8unorm | pack4x8unorm(e: vec4<f32>) -> u32 | Packs four normalized unsigned floats into 8-bit integers.
pack4xI8 | pack4xI8(e: vec4<i32>) -> u32 | Packs the low 8 bits of four signed integers.
pack4xU8 | pack4xU8(e: vec4<u32>) -> u32 | Packs the low 8 bits of four unsigned integers.
pack4xI8Clamp | pack4xI8Clamp(e: vec4<i32>) -> u32 | Clamps four signed integers to [-128, 127] and packs them.
pack4xU8Clamp | pack4xU8Clamp(e: vec4<u32>) -> u32 | Clamps four unsigned integers to [0, 255] and packs them.
pack2x16snorm | pack2x16snorm(e: vec2<f32>) -> u32 | Packs two normalized signed floats into 16-bit integers.
pack2x16unorm | pack2x16unorm(e: vec2<f32>) -> u32 | Packs two normalized unsigned floats into 16-bit integers.
pack2x16float | pack2x16float(e: vec2<f32>) -> u32 | Packs two floats as f16 values.
unpack4x8snorm | unpack4x8snorm(e: u32) -> vec4<f32> | Unpacks four signed 8-bit values into normalized floats.
unpack4x8unorm | unpack4x8unorm(e: u32) -> vec4<f32> | Unpacks four unsigned 8-bit values into normalized floats.
unpack4xI8 | unpack4xI8(e: u32) -> vec4<i32> | Unpacks four signed 8-bit integers.
unpack4xU8 | unpack4xU8(e: u32) -> vec4<u32> | Unpacks four unsigned 8-bit integers.
unpack2x16snorm | unpack2x16snorm(e: u32) -> vec2<f32> | Unpacks two signed 16-bit values into normalized floats.
unpack2x16unorm | unpack2x16unorm(e: u32) -> vec2<f32> | Unpacks two unsigned 16-bit values into normalized floats.
unpack2x16float | unpack2x16float(e: u32) -> vec2<f32> | Unpacks two f16 values into floats.
storageBarrier | storageBarrier() | Orders storage-buffer memory accesses within the workgroup.
textureBarrier | textureBarrier() | Orders storage-texture memory accesses within the workgroup.
workgroupBarrier | workgroupBarrier() | Waits for every invocation of the workgroup and orders workgroup memory.
workgroupUniformLoad | workgroupUniformLoad(p: ptr<workgroup, T>) -> T | Loads a workgroup value uniformly for all invocations (includes a barrier).
bitcast | bitcast<T>(e: S) -> T | Reinterprets the bits of e as type T.
subgroupAdd | subgroupAdd(e: T) -> T | Sum of e over the active invocations of the subgroup.
subgroupMul | subgroupMul(e: T) -> T | Product of e over the active invocations of the subgroup.
subgroupMin | subgroupMin(e: T) -> T | Minimum of e over the subgroup.
subgroupMax | subgroupMax(e: T) -> T | Maximum of e over the subgroup.
subgroupAnd | subgroupAnd(e: T) -> T | Bitwise and of e over the subgroup.
subgroupOr | subgroupOr(e: T) -> T | Bitwise or of e over the subgroup.
subgroupXor | subgroupXor(e: T) -> T | Bitwise xor of e over the subgroup.
subgroupAll | subgroupAll(e: bool) -> bool | True if e is true for every active invocation.
subgroupAny | subgroupAny(e: bool) -> bool | True if e is true for any active invocation.
subgroupBallot | subgroupBallot(pred: bool) -> vec4<u32> | Bit mask of the invocations for which pred is true.
subgroupBroadcast | subgroupBroadcast(e: T, id: I) -> T | Value of e from invocation id.
subgroupBroadcastFirst | subgroupBroadcastFirst(e: T) -> T | Value of e from the lowest active invocation.
subgroupElect | subgroupElect() -> bool | True in exactly one active invocation.
subgroupShuffle | subgroupShuffle(e: T, id: I) -> T | Value of e from invocation id.
subgroupExclusiveAdd | subgroupExclusiveAdd(e: T) -> T | Prefix sum excluding the current invocation.
subgroupInclusiveAdd | subgroupInclusiveAdd(e: T) -> T | Prefix sum including the current invocation.
"""

_TYPE_TABLE = """
bool | Boolean: true or false.
i32 | 32-bit signed integer.
u32 | 32-bit unsigned integer.
f32 | 32-bit IEEE-754 floating point.
f16 | 16-bit floating point (needs `enable f16;`).
vec2 | 2-component vector: vec2<T>. | generic
vec3 | 3-component vector: vec3<T>. | generic
vec4 | 4-component vector: vec4<T>. | generic
vec2f | Alias for vec2<f32>.
vec3f | Alias for vec3<f32>.
vec4f | Alias for vec4<f32>.
vec2i | Alias for vec2<i32>.
vec3i | Alias for vec3<i32>.
vec4i | Alias for vec4<i32>.
vec2u | Alias for vec2<u32>.
vec3u | Alias for vec3<u32>.
vec4u | Alias for vec4<u32>.
vec2h | Alias for vec2<f16>.
vec3h | Alias for vec3<f16>.
vec4h | Alias for vec4<f16>.
mat2x2 | Matrix with 2 columns and 2 rows: mat2x2<T>. | generic
mat2x3 | Matrix with 2 columns and 3 rows: mat2x3<T>. | generic
mat2x4 | Matrix with 2 columns and 4 rows: mat2x4<T>. | generic
mat3x2 | Matrix with 3 columns and 2 rows: mat3x2<T>. | generic
mat3x3 | Matrix with 3 columns and 3 rows: mat3x3<T>. | generic
mat3x4 | Matrix with 3 columns and 4 rows: mat3x4<T>. | generic
mat4x2 | Matrix with 4 columns and 2 rows: mat4x2<T>. | generic
mat4x3 | Matrix with 4 columns and 3 rows: mat4x3<T>. | generic
mat4x4 | Matrix with 4 columns and 4 rows: mat4x4<T>. | generic
mat2x2f | Alias for mat2x2<f32>.
mat3x3f | Alias for mat3x3<f32>.
mat4x4f | Alias for mat4x4<f32>.
array | Fixed-size array<E, N> or runtime-sized array<E> (last member of a storage buffer). | generic
atomic | Atomic integer atomic<i32> or atomic<u32>, in storage or workgroup memory. | generic
ptr | Pointer ptr<address_space, T, access_mode>. | generic
sampler | Texture sampler (filtering and addressing state).
sampler_comparison | Sampler for depth comparisons.
texture_1d | Sampled 1D texture: texture_1d<T>. | generic
texture_2d | Sampled 2D texture: texture_2d<T>. | generic
texture_2d_array | Sampled 2D array texture: texture_2d_array<T>. | generic
texture_3d | Sampled 3D texture: texture_3d<T>. | generic
texture_cube | Sampled cube texture: texture_cube<T>. | generic
texture_cube_array | Sampled cube array texture: texture_cube_array<T>. | generic
texture_multisampled_2d | Multisampled 2D texture: texture_multisampled_2d<T>. | generic
texture_depth_2d | 2D depth texture.
texture_depth_2d_array | 2D array depth texture.
texture_depth_cube | Cube depth texture.
texture_depth_cube_array | Cube array depth texture.
texture_depth_multisampled_2d | Multisampled 2D depth texture.
texture_storage_1d | 1D storage texture: texture_storage_1d<format, access>. | generic
texture_storage_2d | 2D storage texture: texture_storage_2d<format, access>. | generic
texture_storage_2d_array | 2D array storage texture: texture_storage_2d_array<format, access>. | generic
texture_storage_3d | 3D storage texture: texture_storage_3d<format, access>. | generic
texture_external | External texture (video frames), sampled with textureSampleBaseClampToEdge.
"""

KEYWORDS: tuple[str, ...] = (
    "alias", "break", "case", "const", "const_assert", "continue", "continuing", "default",
    "diagnostic", "discard", "else", "enable", "false", "fn", "for", "if", "let", "loop",
    "override", "requires", "return", "struct", "switch", "true", "var", "while",
)  # fmt: skip

ATTRIBUTES: dict[str, str] = {
    "align": "align(N): byte alignment of a struct member.",
    "binding": "binding(N): binding number of a resource within its bind group.",
    "builtin": "builtin(name): the variable holds a built-in value such as position.",
    "compute": "Marks a function as a compute shader entry point (needs @workgroup_size).",
    "const": "Marks a function as usable in constant expressions (built-ins only).",
    "diagnostic": "diagnostic(severity, rule): controls a diagnostic for a function or statement.",
    "fragment": "Marks a function as a fragment shader entry point.",
    "group": "group(N): bind group index of a resource.",
    "id": "id(N): pipeline-overridable constant's numeric identifier.",
    "interpolate": "interpolate(type, sampling): how a user-defined IO value is interpolated.",
    "invariant": "The position output is computed identically across pipelines.",
    "location": "location(N): user-defined IO location of an entry point input or output.",
    "blend_src": "blend_src(N): dual-source blending output index.",
    "must_use": "A call to this function must use its result.",
    "size": "size(N): byte size of a struct member.",
    "vertex": "Marks a function as a vertex shader entry point.",
    "workgroup_size": "workgroup_size(x, y, z): workgroup dimensions of a compute shader.",
}

ATTRIBUTE_SNIPPETS: dict[str, str] = {
    "align": "align(${1:16})",
    "binding": "binding(${1:0})",
    "builtin": "builtin(${1:position})",
    "diagnostic": "diagnostic(${1:off}, ${2:derivative_uniformity})",
    "group": "group(${1:0})",
    "id": "id(${1:0})",
    "interpolate": "interpolate(${1:flat})",
    "location": "location(${1:0})",
    "blend_src": "blend_src(${1:0})",
    "size": "size(${1:16})",
    "workgroup_size": "workgroup_size(${1:64})",
}

BUILTIN_VALUES: dict[str, str] = {
    "vertex_index": "Vertex stage input, u32: index of the current vertex.",
    "instance_index": "Vertex stage input, u32: index of the current instance.",
    "position": "Vertex output / fragment input, vec4<f32>: clip-space / framebuffer position.",
    "front_facing": "Fragment input, bool: the primitive faces the viewer.",
    "frag_depth": "Fragment output, f32: depth written to the depth buffer.",
    "sample_index": "Fragment input, u32: sample index in multisampled rendering.",
    "sample_mask": "Fragment input/output, u32: coverage mask.",
    "local_invocation_id": "Compute input, vec3<u32>: position within the workgroup.",
    "local_invocation_index": "Compute input, u32: linear index within the workgroup.",
    "global_invocation_id": "Compute input, vec3<u32>: position in the whole dispatch.",
    "workgroup_id": "Compute input, vec3<u32>: position of the workgroup in the dispatch.",
    "num_workgroups": "Compute input, vec3<u32>: dispatch size in workgroups.",
    "subgroup_invocation_id": "Compute/fragment input, u32: index within the subgroup.",
    "subgroup_size": "Compute/fragment input, u32: number of invocations in the subgroup.",
}

ADDRESS_SPACES: dict[str, str] = {
    "function": "Address space of function-local variables.",
    "private": "Per-invocation module-scope variable.",
    "workgroup": "Shared by the invocations of one compute workgroup.",
    "uniform": "Read-only uniform buffer.",
    "storage": "Storage buffer; access mode read (default) or read_write.",
    "read": "Access mode: read only.",
    "write": "Access mode: write only.",
    "read_write": "Access mode: read and write.",
}


def _parse_functions() -> dict[str, BuiltinFunction]:
    table: dict[str, BuiltinFunction] = {}
    for line in _FUNCTION_TABLE.strip().splitlines():
        name, signatures, description = (part.strip() for part in line.split(" | "))
        table[name] = BuiltinFunction(
            name=name,
            signatures=tuple(sig.strip() for sig in signatures.split("; ")),
            description=description,
        )
    return table


def _parse_types() -> dict[str, BuiltinType]:
    table: dict[str, BuiltinType] = {}
    for line in _TYPE_TABLE.strip().splitlines():
        parts = [part.strip() for part in line.split(" | ")]
        table[parts[0]] = BuiltinType(
            name=parts[0], description=parts[1], generic=len(parts) > 2 and parts[2] == "generic"
        )
    return table


FUNCTIONS: dict[str, BuiltinFunction] = _parse_functions()
TYPES: dict[str, BuiltinType] = _parse_types()

_PARAM_NAME = re.compile(r"^\s*(\w+)")


def call_snippet(function: BuiltinFunction) -> str:
    """An LSP snippet for a call, one tab stop per parameter: ``clamp(${1:e}, ${2:low}, ...)``."""
    names = []
    for index, parameter in enumerate(function.parameters, start=1):
        match = _PARAM_NAME.match(parameter)
        names.append(f"${{{index}:{match.group(1) if match else 'arg'}}}")
    return f"{function.name}({', '.join(names)})"
