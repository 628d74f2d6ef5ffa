// expect: 6:34-6:48 Argument 1 value [3] doesn't match the type
fn scale(v: vec3<f32>, s: f32) -> vec3<f32> {
    return v * s;
}
fn g() -> vec3<f32> {
    return scale(vec3<f32>(1.0), vec2<f32>(2.0));
}
