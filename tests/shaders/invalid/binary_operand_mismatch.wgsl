// expect: 3:12-3:17 Operation Add can't work with
fn f(a: i32, b: u32) -> i32 {
    return a + b;
}
