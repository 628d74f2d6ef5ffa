// expect: 3:14-3:23 must all have bindings
@fragment
fn main() -> vec4<f32> {
    return vec4<f32>(1.0, 0.0, 0.0, 1.0);
}
