// expect: 2:36-2:46 unused expressions for template
@group(0) @binding(0) var<uniform, read_write> scale: f32;

@compute @workgroup_size(1)
fn main() {
    _ = scale;
}
