// expect: 4:11-4:16 no definition in scope for identifier: `flaot`
struct Particle {
    pos: vec3<f32>,
    mass: flaot,
}
