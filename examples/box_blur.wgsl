// A 3x3 box blur from one texture into a storage texture of the same size.
// Dispatch ceil(width / 8) x ceil(height / 8) workgroups.

@group(0) @binding(0) var source: texture_2d<f32>;
@group(0) @binding(1) var blurred: texture_storage_2d<rgba8unorm, write>;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let size = textureDimensions(source);
    if (id.x >= size.x || id.y >= size.y) {
        return;
    }
    let center = vec2<i32>(id.xy);
    let last = vec2<i32>(size) - vec2<i32>(1);
    var sum = vec4<f32>(0.0);
    for (var dy = -1; dy <= 1; dy++) {
        for (var dx = -1; dx <= 1; dx++) {
            let at = clamp(center + vec2<i32>(dx, dy), vec2<i32>(0), last);
            sum += textureLoad(source, at, 0);
        }
    }
    textureStore(blurred, center, sum / 9.0);
}
