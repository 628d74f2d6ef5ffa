var<private> seed: u32 = 12345u;

fn next_random() -> f32 {
    seed = seed * 1664525u + 1013904223u;
    return f32(seed >> 8u) / 16777216.0;
}

fn pick(a: vec3<f32>, b: vec3<f32>) -> vec3<f32> {
    return select(a, b, next_random() > 0.5);
}
