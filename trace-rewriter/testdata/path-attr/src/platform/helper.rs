pub fn get() -> &'static str {
    "unix"
}
