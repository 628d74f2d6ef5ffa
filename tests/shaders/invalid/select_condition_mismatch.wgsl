// expect: 3:12-3:18 Expected selection condition to be a boolean
fn pick(a: vec3<f32>, b: vec3<f32>, c: vec2<bool>) -> vec3<f32> {
    return select(a, b, c);
}
