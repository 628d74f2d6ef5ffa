fn classify(x: i32) -> i32 {
    switch x {
        case 0: {
            return 0;
        }
        case 1, 2, 3: {
            return 1;
        }
        default: {
            return 2;
        }
    }
}
