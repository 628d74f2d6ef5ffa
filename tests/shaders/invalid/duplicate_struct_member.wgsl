// expect: 4:5-4:6 redefinition of `a`
struct Pair {
    a: f32,
    a: f32,
}
