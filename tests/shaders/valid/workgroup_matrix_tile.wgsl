var<workgroup> tile_a: array<array<f32, 16>, 16>;
var<workgroup> tile_b: array<array<f32, 16>, 16>;
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let n = 64u;
    var acc = 0.0;
    for (var t = 0u; t < n / 16u; t++) {
        tile_a[lid.y][lid.x] = a[gid.y * n + t * 16u + lid.x];
        tile_b[lid.y][lid.x] = b[(t * 16u + lid.y) * n + gid.x];
        workgroupBarrier();
        for (var k = 0u; k < 16u; k++) {
            acc += tile_a[lid.y][k] * tile_b[k][lid.x];
        }
        workgroupBarrier();
    }
    c[gid.y * n + gid.x] = acc;
}
