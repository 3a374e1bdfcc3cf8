pub fn leaf() -> u32 {
    1
}
