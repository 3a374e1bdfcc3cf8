//! Methods in an impl and default bodies in a trait.

#[derive(Default)]
pub struct Shelf {
    slots: Vec<u8>,
}

#[derive(Debug)]
pub struct Missing(pub usize);

impl Shelf {
    /// Returns a borrow of `self`'s own data through `Result`.
    pub fn slot(&mut self, at: usize) -> Result<&mut u8, Missing> {
        self.slots.get_mut(at).ok_or(Missing(at))
    }
}

pub trait Check {
    fn len(&self) -> usize;

    fn check(&self) -> Result<(), Missing> {
        match self.len() {
            0 => Err(Missing(0)),
            _ => Ok(()),
        }
    }
}

impl Check for Shelf {
    fn len(&self) -> usize {
        self.slots.len()
    }
}

/// `#[track_caller]`: keeps its guard only (a closure cannot track its fn's caller).
#[track_caller]
pub fn must(slot: Option<u8>) -> Result<u8, Missing> {
    slot.ok_or(Missing(std::panic::Location::caller().line() as usize))
}

pub fn lookup(key: &str) -> Option<u32> {
    (key == "b").then_some(2)
}
