// expect: 3:5-6:6 missing a `default` case
fn f(x: i32) -> i32 {
    switch x {
        case 1: { return 10; }
        case 2: { return 20; }
    }
    return 0;
}
