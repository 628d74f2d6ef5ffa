// Sums a buffer of u32 with a tree reduction in workgroup memory; each workgroup adds its
// partial sum to `total` atomically. Clear `total` to 0 before dispatching ceil(len / 256).

const WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<storage, read> values: array<u32>;
@group(0) @binding(1) var<storage, read_write> total: atomic<u32>;

var<workgroup> partial: array<u32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(global_invocation_id) global_id: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    var value = 0u;
    if (global_id.x < arrayLength(&values)) {
        value = values[global_id.x];
    }
    partial[local] = value;
    workgroupBarrier();

    for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride = stride / 2u) {
        if (local < stride) {
            partial[local] = partial[local] + partial[local + stride];
        }
        workgroupBarrier();
    }

    if (local == 0u) {
        atomicAdd(&total, partial[0]);
    }
}
