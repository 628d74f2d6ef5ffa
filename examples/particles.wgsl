// Moves particles one time step under gravity and bounces them off the floor (y = 0),
// losing some speed on each bounce.

struct Particle {
    position: vec3<f32>,
    velocity: vec3<f32>,
}

struct Step {
    dt: f32,
    gravity: f32,
    restitution: f32,
}

@group(0) @binding(0) var<storage, read_write> particles: array<Particle>;
@group(0) @binding(1) var<uniform> step: Step;

fn advance(p: Particle) -> Particle {
    var next = p;
    next.velocity.y -= step.gravity * step.dt;
    next.position += next.velocity * step.dt;
    if (next.position.y < 0.0) {
        next.position.y = -next.position.y;
        next.velocity.y = -next.velocity.y * step.restitution;
    }
    return next;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x < arrayLength(&particles)) {
        particles[id.x] = advance(particles[id.x]);
    }
}
