// expect: 3:16-3:17 declaration of `a` is cyclic
const a: i32 = b + 1;
const b: i32 = a * 2;
