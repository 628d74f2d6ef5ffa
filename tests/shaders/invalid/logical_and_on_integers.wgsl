// expect: 3:14-3:16 Incompatible operands: LogicalAnd
fn both(a: i32, b: i32) -> bool {
    return a && b;
}
