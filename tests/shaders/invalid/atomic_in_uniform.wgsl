// expect: 2:23-2:57 do not meet the required
@group(0) @binding(0) var<uniform> counter: atomic<u32>;

@compute @workgroup_size(1)
fn main() {
    _ = atomicLoad(&counter);
}
