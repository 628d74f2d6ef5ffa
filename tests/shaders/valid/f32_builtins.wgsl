fn shade(n: vec3<f32>, l: vec3<f32>, v: vec3<f32>) -> f32 {
    let h = normalize(l + v);
    let diffuse = max(dot(n, l), 0.0);
    let specular = pow(max(dot(n, h), 0.0), 32.0);
    return clamp(diffuse + specular, 0.0, 1.0) * smoothstep(0.0, 1.0, fract(length(n)));
}
