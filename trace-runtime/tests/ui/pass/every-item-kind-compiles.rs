//! `#[trace]` on impls, trait impls of every shape of Self type, traits and inline mods compiles.
//!
//! This crate has the runtime's features, not a `trace` feature of its own: it compiles the
//! untraced copies (`cfg(not(feature = "trace"))`); the examples compile the traced ones.
#![allow(unexpected_cfgs)]

use std::fmt;

use trace_runtime::trace;

pub trait Hello {
    fn hi(&self);
}

pub trait Shape {
    fn area(&self) -> u32;
}

pub trait Marker {}

pub struct Pool;
pub struct Stack<T>(Vec<T>);

#[trace]
impl Pool {
    pub fn get(&self) -> u32 {
        Self::limit()
    }

    pub const fn limit() -> u32 {
        8
    }

    pub async fn load(&self) -> u32 {
        1
    }

    #[trace(skip)]
    fn quiet(&self) {}
}

#[trace]
impl<T: Clone> Stack<T>
where
    T: Default,
{
    fn push(&mut self, v: T) {
        self.0.push(v)
    }
}

#[trace]
impl Hello for u8 {
    fn hi(&self) {}
}

#[trace]
impl Hello for [u8; 4] {
    fn hi(&self) {}
}

#[trace]
impl Hello for &str {
    fn hi(&self) {}
}

#[trace]
impl Hello for dyn Shape {
    fn hi(&self) {}
}

#[trace]
impl<T> Hello for Vec<T> {
    fn hi(&self) {}
}

#[trace]
impl<T: Marker> Hello for T {
    fn hi(&self) {}
}

#[trace]
impl fmt::Display for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("pool")
    }
}

#[trace]
pub trait Animal {
    fn name(&self) -> String;

    fn speak(&self) -> String {
        self.name()
    }
}

#[trace]
mod zoo {
    pub struct Cat;

    impl super::Animal for Cat {
        fn name(&self) -> String {
            "cat".into()
        }
    }

    impl crate::Hello for Cat {
        fn hi(&self) {}
    }

    pub mod inner {
        pub fn deep() {}
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn untraced() {}
    }
}

fn main() {
    use zoo::Cat;
    Pool.get();
    Pool.quiet();
    let _ = Pool.load();
    Stack(vec![1u8]).push(2);
    7u8.hi();
    [0u8; 4].hi();
    "s".hi();
    vec![1].hi();
    let _ = Pool.to_string();
    Cat.speak();
    Cat.hi();
    zoo::inner::deep();
}
