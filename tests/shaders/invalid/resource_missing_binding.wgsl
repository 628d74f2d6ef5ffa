// expect: 2:1-2:43 Binding decoration is missing
var<storage, read_write> data: array<f32>;
@compute @workgroup_size(1)
fn main() {
    data[0] = 1.0;
}
