#[path = "platform/unix_impl.rs"]
mod imp;

pub fn run() -> &'static str {
    imp::name()
}
