@group(0) @binding(0) var shadow_map: texture_depth_2d;
@group(0) @binding(1) var shadow_sampler: sampler_comparison;

@fragment
fn main(@location(0) shadow_coord: vec3<f32>) -> @location(0) vec4<f32> {
    let lit = textureSampleCompare(shadow_map, shadow_sampler, shadow_coord.xy, shadow_coord.z);
    return vec4<f32>(vec3<f32>(lit), 1.0);
}
