// expect: 4:9-4:18 invalid address space for local variable
@compute @workgroup_size(1)
fn main() {
    var<workgroup> tile: array<f32, 64>;
}
