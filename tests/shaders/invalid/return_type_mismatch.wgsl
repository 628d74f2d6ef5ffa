// expect: 3:12-3:15 cannot convert `{AbstractFloat}` to `i32`
fn f() -> i32 {
    return 1.5;
}
