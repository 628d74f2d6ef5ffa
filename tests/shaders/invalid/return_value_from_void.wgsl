// expect: 3:12-3:13 Abstract types may only appear in constant expressions
fn f() {
    return 1;
}
