// expect: 5:5-5:10 invalid left-hand side of assignment
@compute @workgroup_size(1)
fn main() {
    let total = 1;
    total = 2;
}
