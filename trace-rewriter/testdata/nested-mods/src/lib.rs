//! Modules in every layout rustc accepts.

mod flat;
mod dir;
mod inline {
    pub mod deep;

    pub fn here() -> u32 {
        deep::down()
    }
}

pub fn top() -> u32 {
    flat::one() + dir::two() + inline::here()
}
