// expect: 3:2-3:9 workgroup size is missing
@group(0) @binding(0) var<storage, read_write> data: array<u32>;
@compute
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    data[id.x] = id.x;
}
