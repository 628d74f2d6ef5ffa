struct Material {
    albedo: vec3<f32>,
    roughness: f32,
}
struct Object {
    transform: mat4x4<f32>,
    material: Material,
    id: u32,
}
@group(0) @binding(0) var<storage, read> objects: array<Object>;
@group(0) @binding(1) var<storage, read_write> roughness: array<f32>;

@compute @workgroup_size(32)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let object = objects[gid.x];
    roughness[object.id] = object.material.roughness;
}
