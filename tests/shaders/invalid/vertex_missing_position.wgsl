// expect: 6:14-6:23 must return a `@builtin(position)` output value
struct VertexOut {
    @location(0) color: vec4<f32>,
}
@vertex
fn main() -> VertexOut {
    var out: VertexOut;
    out.color = vec4<f32>(1.0);
    return out;
}
