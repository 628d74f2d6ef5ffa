// expect: 3:16-3:17 expected expression
fn f() -> i32 {
    let a = 1 +;
    return a;
}
