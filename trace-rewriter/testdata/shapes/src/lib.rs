//! Impls, traits, generics, nested fns, const fns, async fns and macros.
#![allow(dead_code)]

use std::fmt;

pub struct Stack<T> {
    items: Vec<T>,
}

impl<T: Clone> Stack<T>
where
    T: fmt::Debug,
{
    pub fn push(&mut self, v: T) {
        self.items.push(v)
    }

    pub const fn limit() -> usize {
        64
    }

    /// Inner attributes stay first.
    pub fn peek(&self) -> Option<&T> {
        #![allow(clippy::all)]
        self.items.last()
    }
}

impl<'a> From<&'a str> for Stack<String> {
    fn from(s: &'a str) -> Self {
        Stack { items: vec![s.to_string()] }
    }
}

pub trait Animal {
    fn name(&self) -> String;

    fn speak(&self) -> String {
        format!("{} speaks", self.name())
    }
}

pub fn outer() -> u32 {
    fn inner() -> u32 {
        7
    }
    inner()
}

pub async fn fetch(n: u32) -> u32 {
    n + 1
}

pub unsafe fn raw(p: *const u32) -> u32 {
    *p
}

macro_rules! make {
    ($name:ident) => {
        pub fn $name() -> u32 {
            0
        }
    };
}

make!(generated);

#[cfg_attr(feature = "trace", trace_runtime::trace(skip))]
pub fn opted_out() {}

#[cfg(test)]
mod tests {
    #[test]
    fn t() {
        assert_eq!(super::outer(), 7);
    }
}
