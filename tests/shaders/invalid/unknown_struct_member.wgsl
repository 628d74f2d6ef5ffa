// expect: 7:14-7:20 invalid field accessor `radius`
struct Light {
    color: vec3<f32>,
    intensity: f32,
}
fn f(l: Light) -> f32 {
    return l.radius;
}
