// Helpers shared by the colour shaders.

fn luminance(c: vec3<f32>) -> f32 {
    let weights = vec3<f32>(0.2126, 0.7152, 0.0722);
    return dot(c, weight);
}
