struct Particles {
    count: u32,
    positions: array<vec4<f32>>,
}
@group(0) @binding(0) var<storage, read_write> particles: Particles;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if gid.x < particles.count {
        particles.positions[gid.x] += vec4<f32>(0.0, -0.01, 0.0, 0.0);
    }
}
