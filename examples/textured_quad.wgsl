// A textured, transformed quad: a uniform matrix moves it, a sampler reads the texture,
// and a tint multiplies the colour. Vertex buffer: position (vec2) and uv (vec2) per vertex.

struct Camera {
    transform: mat4x4<f32>,
    tint: vec4<f32>,
}

struct VertexIn {
    @location(0) position: vec2<f32>,
    @location(1) uv: vec2<f32>,
}

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) uv: vec2<f32>,
}

@group(0) @binding(0) var<uniform> camera: Camera;
@group(1) @binding(0) var color_texture: texture_2d<f32>;
@group(1) @binding(1) var color_sampler: sampler;

@vertex
fn vs_main(in: VertexIn) -> VertexOut {
    var out: VertexOut;
    out.clip = camera.transform * vec4<f32>(in.position, 0.0, 1.0);
    out.uv = in.uv;
    return out;
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    let texel = textureSample(color_texture, color_sampler, in.uv);
    if (texel.a < 0.01) {
        discard;
    }
    return texel * camera.tint;
}
