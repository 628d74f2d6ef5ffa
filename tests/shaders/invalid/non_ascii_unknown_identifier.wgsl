// expect: 5:31-5:38 no definition in scope for identifier: `inconnu`
// température — 温度 ✓
fn f() -> f32 {
    let température = 1.0; let 温度 = 2.0;
    return température + 温度 + inconnu;
}
