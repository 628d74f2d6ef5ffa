// expect: 4:16-4:21 no definition in scope for identifier: `scale`
fn f() -> f32 {
    let x = 2.0;
    return x * scale;
}
