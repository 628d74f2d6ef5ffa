// expect: 3:12-3:23 no definition in scope for identifier: `smoothstepp`
fn f(x: f32) -> f32 {
    return smoothstepp(0.0, 1.0, x);
}
