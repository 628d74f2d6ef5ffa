// expect: 4:9-4:15 `break` is used outside
fn f(x: i32) -> i32 {
    if x > 0 {
        break;
    }
    return x;
}
