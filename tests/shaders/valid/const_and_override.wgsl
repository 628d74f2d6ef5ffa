const PI: f32 = 3.14159265;
const TAU = PI * 2.0;
override samples: u32 = 16u;
@group(0) @binding(0) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(1)
fn main() {
    for (var i = 0u; i < samples; i++) {
        out[i] = sin(TAU * f32(i) / f32(samples));
    }
}
