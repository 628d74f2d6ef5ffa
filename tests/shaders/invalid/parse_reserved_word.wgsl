// expect: 3:9-3:15 `module` is a reserved keyword
fn f() -> i32 {
    let module = 1;
    return module;
}
