// expect: 4:5-4:8 expected `;`
fn f() -> i32 {
    let a = 1
    let b = 2;
    return a + b;
}
