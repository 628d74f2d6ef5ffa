struct GBuffer {
    @location(0) albedo: vec4<f32>,
    @location(1) normal: vec4<f32>,
    @location(2) depth: f32,
}

@fragment
fn main(@builtin(position) frag: vec4<f32>, @location(0) normal: vec3<f32>) -> GBuffer {
    var out: GBuffer;
    out.albedo = vec4<f32>(1.0);
    out.normal = vec4<f32>(normalize(normal) * 0.5 + 0.5, 1.0);
    out.depth = frag.z;
    return out;
}
