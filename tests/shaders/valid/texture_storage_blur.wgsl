@group(0) @binding(0) var source: texture_2d<f32>;
@group(0) @binding(1) var destination: texture_storage_2d<rgba8unorm, write>;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let size = textureDimensions(source);
    if gid.x >= size.x || gid.y >= size.y {
        return;
    }
    var sum = vec4<f32>(0.0);
    for (var dy = -1; dy <= 1; dy++) {
        for (var dx = -1; dx <= 1; dx++) {
            let p = clamp(vec2<i32>(gid.xy) + vec2<i32>(dx, dy), vec2<i32>(0), vec2<i32>(size) - 1);
            sum += textureLoad(source, p, 0);
        }
    }
    textureStore(destination, vec2<i32>(gid.xy), sum / 9.0);
}
