fn sum_for(n: u32) -> u32 {
    var total = 0u;
    for (var i = 0u; i < n; i++) {
        total += i;
    }
    return total;
}

fn sum_while(n: u32) -> u32 {
    var total = 0u;
    var i = 0u;
    while i < n {
        total += i;
        i += 1u;
    }
    return total;
}

fn sum_loop(n: u32) -> u32 {
    var total = 0u;
    var i = 0u;
    loop {
        if i >= n {
            break;
        }
        total += i;
        continuing {
            i += 1u;
        }
    }
    return total;
}

@group(0) @binding(0) var<storage, read_write> out: array<u32, 3>;

@compute @workgroup_size(1)
fn main() {
    out[0] = sum_for(10u);
    out[1] = sum_while(10u);
    out[2] = sum_loop(10u);
}
