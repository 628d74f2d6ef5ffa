struct Light {
    position: vec4<f32>,
    color: vec4<f32>,
}
struct Lights {
    items: array<Light, 8>,
    count: u32,
}
@group(0) @binding(0) var<uniform> lights: Lights;

@fragment
fn main(@location(0) world: vec3<f32>) -> @location(0) vec4<f32> {
    var total = vec3<f32>(0.0);
    for (var i = 0u; i < lights.count; i++) {
        let d = distance(lights.items[i].position.xyz, world);
        total += lights.items[i].color.rgb / (1.0 + d * d);
    }
    return vec4<f32>(total, 1.0);
}
