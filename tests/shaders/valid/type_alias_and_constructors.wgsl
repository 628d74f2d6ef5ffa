alias Color = vec4<f32>;
alias Grid = array<array<u32, 4>, 4>;

fn identity_grid() -> Grid {
    var g: Grid;
    for (var i = 0; i < 4; i++) {
        g[i][i] = 1u;
    }
    return g;
}

fn grey(v: f32) -> Color {
    return Color(vec3(v), 1.0);
}
