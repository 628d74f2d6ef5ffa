// expect: 5:22-5:32 Multiple `switch` cases
fn f(x: i32) -> i32 {
    switch x {
        case 1: { return 10; }
        case 2, 1: { return 20; }
        default: { return 0; }
    }
}
