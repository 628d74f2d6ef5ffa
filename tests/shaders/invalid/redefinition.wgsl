// expect: 5:4-5:8 redefinition of `area`
fn area(r: f32) -> f32 {
    return 3.14 * r * r;
}
fn area(w: f32, h: f32) -> f32 {
    return w * h;
}
