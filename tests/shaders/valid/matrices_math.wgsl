fn rotation_z(angle: f32) -> mat3x3<f32> {
    let c = cos(angle);
    let s = sin(angle);
    return mat3x3<f32>(
        vec3<f32>(c, s, 0.0),
        vec3<f32>(-s, c, 0.0),
        vec3<f32>(0.0, 0.0, 1.0),
    );
}

fn transform(p: vec3<f32>, angle: f32) -> vec3<f32> {
    return transpose(rotation_z(angle)) * p + normalize(cross(p, vec3<f32>(0.0, 0.0, 1.0) + p));
}
