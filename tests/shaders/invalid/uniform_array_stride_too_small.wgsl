// expect: 5:23-5:51 Alignment requirements for address space Uniform are not met
struct Params {
    weights: array<f32, 4>,
}
@group(0) @binding(0) var<uniform> params: Params;

@compute @workgroup_size(1)
fn main() {
    _ = params.weights[0];
}
