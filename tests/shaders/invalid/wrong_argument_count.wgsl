// expect: 6:12-6:30 Requires 2 arguments, but 3 are provided
fn add(a: f32, b: f32) -> f32 {
    return a + b;
}
fn g() -> f32 {
    return add(1.0, 2.0, 3.0);
}
