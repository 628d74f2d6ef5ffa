// expect: 3:9-3:25 must all have bindings
@fragment
fn main(color: vec4<f32>) -> @location(0) vec4<f32> {
    return color;
}
