// expect: 4:9-4:47 Built-in type for GlobalInvocationId is invalid
@group(0) @binding(0) var<storage, read_write> data: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: u32) {
    data[id] = id;
}
