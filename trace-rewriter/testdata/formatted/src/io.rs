pub(crate) fn read() -> std::io::Result<String> {
    std::fs::read_to_string("x")
}

pub(crate) async fn wait() {}

pub(crate) struct Reader;

impl Reader {
    pub(crate) async fn read_all_the_bytes_there_are(&self) -> usize {
        0
    }
}
