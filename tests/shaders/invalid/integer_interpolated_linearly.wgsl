// expect: 4:5-4:46 Interpolation is not valid
struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) @interpolate(linear) id: u32,
}

@vertex
fn main(@builtin(vertex_index) i: u32) -> VertexOut {
    return VertexOut(vec4<f32>(0.0), i);
}
