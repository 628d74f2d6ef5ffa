var<workgroup> counter: atomic<u32>;
@group(0) @binding(0) var<storage, read_write> totals: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    if lid == 0u {
        atomicStore(&counter, 0u);
    }
    workgroupBarrier();
    atomicAdd(&counter, 1u);
    workgroupBarrier();
    if lid == 0u {
        totals[wid.x] = atomicLoad(&counter);
    }
}
