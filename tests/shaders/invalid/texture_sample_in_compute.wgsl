// expect: 7:14-7:27 Uses operations forbidden at this stage
@group(0) @binding(0) var tex: texture_2d<f32>;
@group(0) @binding(1) var samp: sampler;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;
@compute @workgroup_size(1)
fn main() {
    out[0] = textureSample(tex, samp, vec2<f32>(0.5, 0.5));
}
