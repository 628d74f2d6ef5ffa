struct VertexOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) @interpolate(flat) id: u32,
    @location(1) @interpolate(linear, centroid) weight: f32,
}

@vertex
fn vs(@builtin(vertex_index) v: u32) -> VertexOut {
    var out: VertexOut;
    out.pos = vec4<f32>(f32(v), 0.0, 0.0, 1.0);
    out.id = v;
    out.weight = 1.0;
    return out;
}

@fragment
fn fs(in: VertexOut) -> @location(0) vec4<u32> {
    return vec4<u32>(in.id, u32(in.weight), 0u, 1u);
}
