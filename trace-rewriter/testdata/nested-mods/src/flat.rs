mod child;

pub fn one() -> u32 {
    child::leaf()
}
