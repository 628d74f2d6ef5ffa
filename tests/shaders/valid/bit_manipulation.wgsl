fn pack(r: u32, g: u32, b: u32, a: u32) -> u32 {
    return (r & 0xffu) | ((g & 0xffu) << 8u) | ((b & 0xffu) << 16u) | ((a & 0xffu) << 24u);
}

fn popcount_parity(x: u32) -> bool {
    return (countOneBits(x) & 1u) == 1u;
}

fn reverse_and_shift(x: u32) -> u32 {
    return reverseBits(x) >> firstTrailingBit(x | 1u);
}
