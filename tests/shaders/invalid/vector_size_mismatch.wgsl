// expect: 5:12-5:17 Operation Add can't work with
fn f() -> vec3<f32> {
    let a = vec3<f32>(1.0, 2.0, 3.0);
    let b = vec2<f32>(1.0, 2.0);
    return a + b;
}
