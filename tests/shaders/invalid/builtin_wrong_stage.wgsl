// expect: 3:9-3:40 is not available at this stage
@compute @workgroup_size(1)
fn main(@builtin(position) p: vec4<f32>) {
}
