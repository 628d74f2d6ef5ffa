// expect: 5:15-5:23 pointer to a non-atomic
var<workgroup> counter: u32;
@compute @workgroup_size(64)
fn main() {
    atomicAdd(&counter, 1u);
}
