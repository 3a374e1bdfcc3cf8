pub fn down() -> u32 {
    3
}
