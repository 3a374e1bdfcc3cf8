pub fn also_fine() -> u32 {
    1
}

pub fn broken( -> u32 {
    2
}
