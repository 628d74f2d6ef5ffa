// expect: 3:20-3:31 not representable by target type
fn f() -> i32 {
    let big: i32 = 3000000000i;
    return big;
}
