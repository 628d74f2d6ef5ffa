fn increment(p: ptr<function, i32>) {
    *p += 1;
}

fn swap(a: ptr<function, f32>, b: ptr<function, f32>) {
    let t = *a;
    *a = *b;
    *b = t;
}

fn f() -> i32 {
    var x = 1;
    increment(&x);
    var a = 1.0;
    var b = 2.0;
    swap(&a, &b);
    return x + i32(a);
}
