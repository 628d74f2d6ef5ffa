struct Instance {
    @location(2) offset: vec2<f32>,
    @location(3) scale: f32,
}

@vertex
fn main(@location(0) position: vec2<f32>, instance: Instance, @builtin(instance_index) i: u32) -> @builtin(position) vec4<f32> {
    let p = position * instance.scale + instance.offset + vec2<f32>(f32(i) * 0.01, 0.0);
    return vec4<f32>(p, 0.0, 1.0);
}
