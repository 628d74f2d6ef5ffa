// Ombre portée — 影 — ✓ works with any comment text.
/* Ünïcödé in a /* nested */ block comment: 😀 */
fn brightness(c: vec3<f32>) -> f32 {
    return dot(c, vec3<f32>(0.2126, 0.7152, 0.0722)); // luminance, Rec. 709
}
