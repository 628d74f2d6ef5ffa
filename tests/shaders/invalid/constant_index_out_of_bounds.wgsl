// expect: 4:12-4:16 out of [3] bounds
fn f() -> i32 {
    let a = array<i32, 3>(1, 2, 3);
    return a[5];
}
