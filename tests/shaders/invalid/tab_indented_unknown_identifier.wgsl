// expect: 4:13-4:18 no definition in scope for identifier: `scale`
fn f() -> f32 {
	let x =	1.0;
	return x +	scale;
}
