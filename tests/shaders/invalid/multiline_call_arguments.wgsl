// expect: 6:12-7:16 Requires 1 arguments, but 2 are provided
fn g(a: i32) -> i32 {
    return a;
}
fn f() -> i32 {
    return g(1,
             2);
}
