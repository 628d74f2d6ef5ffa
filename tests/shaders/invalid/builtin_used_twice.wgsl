// expect: 4:5-4:40 is present more than once
struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @builtin(position) again: vec4<f32>,
}

@vertex
fn main() -> VertexOut {
    return VertexOut(vec4<f32>(0.0), vec4<f32>(1.0));
}
