// expect: 3:18-3:27 RHS of shift operation is greater than or equal to 32
fn mask() -> u32 {
    const wide = 1u << 40u;
    return wide;
}
