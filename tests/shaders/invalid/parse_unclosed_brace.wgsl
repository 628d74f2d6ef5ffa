// expect: 4:1-4:1 expected statement
fn f() -> i32 {
    return 1;
