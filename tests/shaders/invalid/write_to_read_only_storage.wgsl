// expect: 5:5-5:15 valid destination for a store
@group(0) @binding(0) var<storage, read> data: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    data[id.x] = 0.0;
}
