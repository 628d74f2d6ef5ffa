// expect: 2:2-2:6 unknown attribute: `fast`
@fast
fn f() -> i32 {
    return 1;
}
