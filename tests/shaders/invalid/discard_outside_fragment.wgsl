// expect: 4:5-4:12 Uses operations forbidden at this stage
@compute @workgroup_size(1)
fn main() {
    discard;
}
