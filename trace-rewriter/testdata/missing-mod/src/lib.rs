pub fn ok() {}

mod nowhere;
