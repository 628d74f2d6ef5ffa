// expect: 2:20-2:26 Division by zero
const ratio: i32 = 10 / 0;
