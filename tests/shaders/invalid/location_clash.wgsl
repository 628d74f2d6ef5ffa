// expect: 5:5-5:34 Multiple bindings at location 0
struct VertexOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) uv: vec2<f32>,
    @location(0) color: vec4<f32>,
}
@vertex
fn main() -> VertexOut {
    var out: VertexOut;
    return out;
}
