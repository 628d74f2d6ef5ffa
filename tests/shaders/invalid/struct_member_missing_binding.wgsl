// expect: 4:5-4:21 Struct member 1 is missing a binding
struct VertexOut {
    @builtin(position) pos: vec4<f32>,
    color: vec4<f32>,
}
@vertex
fn main(@builtin(vertex_index) i: u32) -> VertexOut {
    var out: VertexOut;
    out.pos = vec4<f32>(0.0, 0.0, 0.0, 1.0);
    out.color = vec4<f32>(1.0);
    return out;
}
