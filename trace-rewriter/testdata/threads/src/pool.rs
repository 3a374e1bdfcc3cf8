use std::thread;

pub fn d(n: u32) -> u32 {
    n * 2
}

pub fn fan_out() -> u32 {
    let plain = std::thread::spawn(move || d(1));
    let named = thread::Builder::new()
        .name("w".into())
        .spawn(|| d(2))
        .expect("spawned");
    let mut scoped = 0;
    std::thread::scope(|s| {
        s.spawn(|| d(3));
        scoped = s.spawn(|| d(4)).join().unwrap();
    });
    plain.join().unwrap() + named.join().unwrap() + scoped
}
