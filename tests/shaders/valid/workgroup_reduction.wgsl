const WORKGROUP_SIZE: u32 = 256u;
var<workgroup> partial: array<f32, WORKGROUP_SIZE>;
@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    partial[lid.x] = input[gid.x];
    workgroupBarrier();
    for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
        if lid.x < stride {
            partial[lid.x] += partial[lid.x + stride];
        }
        workgroupBarrier();
    }
    if lid.x == 0u {
        output[wid.x] = partial[0];
    }
}
