// expect: 3:5-3:14 `continue` is used outside
fn f() {
    continue;
}
