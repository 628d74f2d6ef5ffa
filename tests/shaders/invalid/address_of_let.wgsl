// expect: 4:13-4:15 must be a reference
fn f() -> i32 {
    let x = 1;
    let p = &x;
    return *p;
}
