// expect: 3:45-3:46 expected expression, found "😀"
fn f() -> f32 {
    let 変数 = 1.0; /* 😀 émoji */ return 変数 + 😀;
}
