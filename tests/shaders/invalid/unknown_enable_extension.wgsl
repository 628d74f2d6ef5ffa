// expect: 2:8-2:23 unknown enable-extension `quantum_shaders`
enable quantum_shaders;
fn f() {
}
