// Doubles every element of a buffer.
struct Params {
    scale: f32,
};

@group(0) @binding(0) var<storage, read_write> data: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;

fn scaled(v: vec4<f32>) -> vec4<f32> {
    return normalize(v) * params.scale;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= arrayLength(&data)) {
        return;
    }
    data[i] = scaled(vec4<f32>(data[i])).x * 2.0 + f32(0x10u);
}
