diagnostic(off, derivative_uniformity);
@group(0) @binding(0) var t: texture_2d<f32>;
@group(0) @binding(1) var s: sampler;

@fragment
fn main(@location(0) uv: vec2<f32>) -> @location(0) vec4<f32> {
    let edge = fwidth(uv.x) + abs(dpdx(uv.y)) + abs(dpdyFine(uv.x));
    return textureSampleLevel(t, s, uv, 0.0) * edge;
}
