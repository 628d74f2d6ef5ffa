// expect: 2:31-2:32 array element count must be positive
var<private> taps: array<f32, 0>;

fn first() -> f32 {
    return taps[0];
}
