// expect: 2:6-2:7 is not a boolean scalar
fn f(x: i32) -> i32 {
    if x {
        return 1;
    }
    return 0;
}
