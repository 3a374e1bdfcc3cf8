use trace_runtime::trace;

#[trace]
mod db {
    #[trace(skp)]
    pub fn get() {}
}

fn main() {
    db::get();
}
