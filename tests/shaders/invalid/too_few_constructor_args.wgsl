// expect: 3:12-3:31 Constructor expects 4 components, found 2
fn f() -> vec4<f32> {
    return vec4<f32>(1.0, 2.0);
}
