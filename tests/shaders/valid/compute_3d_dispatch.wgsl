@group(0) @binding(0) var volume: texture_storage_3d<r32float, write>;

@compute @workgroup_size(4, 4, 4)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let size = vec3<f32>(groups * 4u);
    let p = (vec3<f32>(gid) + 0.5) / size - 0.5;
    textureStore(volume, gid, vec4<f32>(length(p) - 0.25, 0.0, 0.0, 0.0));
}
