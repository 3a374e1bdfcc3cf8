//! A small library whose tests `run . -- test` runs in the traced copy.

#![doc = include_str!("../README.md")]

pub fn add(a: u32, b: u32) -> u32 {
    double(a + b) / 2
}

fn double(n: u32) -> u32 {
    n * 2
}

#[cfg(test)]
mod tests {
    #[test]
    fn adds() {
        assert_eq!(super::add(2, 3), 5);
    }
}
