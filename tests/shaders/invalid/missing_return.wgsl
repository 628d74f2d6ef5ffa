// expect: 2:4-2:5 does not match the declared return type
fn f(x: f32) -> f32 {
    if x > 0.0 {
        return x;
    }
}
