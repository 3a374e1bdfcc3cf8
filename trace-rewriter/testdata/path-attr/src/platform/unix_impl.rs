mod helper;

pub fn name() -> &'static str {
    helper::get()
}
