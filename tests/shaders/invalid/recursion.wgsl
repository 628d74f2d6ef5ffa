// expect: 6:16-6:20 declaration of `fact` is recursive
fn fact(n: u32) -> u32 {
    if n == 0u {
        return 1u;
    }
    return n * fact(n - 1u);
}
