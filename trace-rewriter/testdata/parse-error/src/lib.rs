mod good;

pub fn fine() -> u32 {
    good::also_fine()
}
