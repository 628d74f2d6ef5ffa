// expect: 3:14-3:16 invalid field accessor `xq`
fn f(v: vec4<f32>) -> vec2<f32> {
    return v.xq;
}
