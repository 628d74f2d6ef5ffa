// expect: 3:23-3:67 Bindings for [1] conflict
@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(0) var<storage, read_write> output: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    output[id.x] = input[id.x] * 2.0;
}
