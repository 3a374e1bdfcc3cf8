use trace_runtime::trace;

struct Secret;

#[trace(args(id, key))]
fn get(id: u64, key: Secret) -> u64 {
    let _ = key;
    id
}

fn main() {
    get(1, Secret);
}
