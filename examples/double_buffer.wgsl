// Doubles every element of a storage buffer in place.
// Dispatch ceil(len / 64) workgroups; extra invocations do nothing.

@group(0) @binding(0) var<storage, read_write> data: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i >= arrayLength(&data)) {
        return;
    }
    data[i] = data[i] * 2.0;
}
