// expect: 2:10-2:28 Workgroup size is out of range
@compute @workgroup_size(0)
fn main() {
}
