//! How traced fns are named, one call per shape of Self type and trait: local, imported and
//! std types, primitives, references, slices, arrays, tuples, `dyn Trait`, generic types and
//! blanket impls; local, imported, `crate::`, `super::` and std traits. Each call is preceded by
//! its source form on stdout, so the names test can pair them.
//!
//! ```text
//! cargo run -p trace-examples --bin names --features trace
//! ```

use std::fmt;

use trace_runtime::trace;

pub trait Hello {
    fn hi(&self);
}

pub trait Shape {
    fn area(&self) -> u32;
}

pub trait Marker {}

pub trait Blanket {
    fn blanket(&self);
}

pub trait Wave {
    fn wave(&self);
}

pub mod models {
    /// A type declared in another module and brought in with `use`.
    pub struct User;
}

pub mod greet {
    /// A trait declared in another module.
    pub trait Greet {
        fn greet(&self);
    }
}

use greet::Greet;
use models::User;

pub struct Local;
pub struct Square;
pub struct Stack<T>(Vec<T>);
pub struct Counter(u32);
pub struct Noisy;

#[trace]
impl Hello for Local {
    fn hi(&self) {}
}

#[trace]
impl Hello for User {
    fn hi(&self) {}
}

#[trace]
impl Hello for String {
    fn hi(&self) {}
}

#[trace]
impl Hello for u8 {
    fn hi(&self) {}
}

#[trace]
impl Hello for &str {
    fn hi(&self) {}
}

#[trace]
impl Hello for [u8] {
    fn hi(&self) {}
}

#[trace]
impl Hello for [u8; 4] {
    fn hi(&self) {}
}

#[trace]
impl Hello for (u8, String) {
    fn hi(&self) {}
}

#[trace]
impl Shape for Square {
    fn area(&self) -> u32 {
        4
    }
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
impl<T> Hello for Stack<T> {
    fn hi(&self) {}
}

/// One static serves every `T`: named after `T`, not resolved.
#[trace]
impl<T: Marker> Blanket for T {
    fn blanket(&self) {}
}

impl Marker for Local {}

#[trace]
impl<T> Stack<T> {
    fn push(&mut self, v: T) {
        self.0.push(v)
    }

    fn len(&self) -> usize {
        fn helper() {}
        helper();
        self.0.len()
    }
}

/// An inherent impl of an imported type, in another module than the type's.
#[trace]
impl User {
    fn get(&self) {}
}

#[trace]
impl dyn Shape {
    fn describe(&self) {}
}

#[trace]
impl Greet for Local {
    fn greet(&self) {}
}

#[trace]
impl fmt::Display for Local {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("local")
    }
}

#[trace]
impl fmt::Debug for dyn Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("shape")
    }
}

#[trace]
impl Iterator for Counter {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        self.0 += 1;
        Some(self.0)
    }
}

#[trace]
impl Drop for Noisy {
    fn drop(&mut self) {}
}

#[trace]
pub trait Animal {
    fn speak(&self) {}
}

impl Animal for Local {}

pub mod c {
    use trace_runtime::trace;

    pub struct B;

    #[trace]
    impl super::Hello for B {
        fn hi(&self) {}
    }

    #[trace]
    impl crate::greet::Greet for B {
        fn greet(&self) {}
    }

    /// A blanket impl: named after `T`, with `super` resolved.
    #[trace]
    impl<T: crate::Marker> super::Wave for T {
        fn wave(&self) {}
    }

    pub struct Generic<T>(pub T);

    #[trace]
    impl<T: crate::Marker> crate::Blanket for Generic<T> {
        fn blanket(&self) {}
    }
}

#[trace]
fn scoped() {
    struct Inner;
    impl Hello for Inner {
        fn hi(&self) {}
    }
    Inner.hi();
}

#[trace(name = "names.custom")]
fn custom() {}

macro_rules! case {
    ($form:literal, $call:expr) => {{
        println!("{}", $form);
        let _ = $call;
    }};
}

fn main() {
    let shape: &dyn Shape = &Square;
    case!("fn scoped() { impl Hello for Inner }", scoped());
    case!("#[trace(name = \"names.custom\")] fn custom", custom());
    case!("impl Hello for Local", Local.hi());
    case!("use models::User; impl Hello for User", User.hi());
    case!("impl Hello for String", String::new().hi());
    case!("impl Hello for u8", 7u8.hi());
    case!("impl Hello for &str", "s".hi());
    case!("impl Hello for [u8]", [1u8, 2][..].hi());
    case!("impl Hello for [u8; 4]", [0u8; 4].hi());
    case!("impl Hello for (u8, String)", (1u8, String::new()).hi());
    case!("impl Shape for Square", Square.area());
    case!("impl Hello for dyn Shape", shape.hi());
    case!("impl<T> Hello for Vec<T>", vec![1u8].hi());
    case!("impl<T> Hello for Stack<T>", Stack(vec![1u8]).hi());
    case!("impl<T: Marker> Blanket for T", Local.blanket());
    case!("impl<T> Stack<T> { fn push }", Stack(Vec::new()).push(1u8));
    case!(
        "impl<T> Stack<T> { fn len { fn helper } }",
        Stack(vec!['a']).len()
    );
    case!("use models::User; impl User { fn get }", User.get());
    case!("impl dyn Shape { fn describe }", shape.describe());
    case!("use greet::Greet; impl Greet for Local", Local.greet());
    case!("impl fmt::Display for Local", format!("{Local}"));
    case!("impl fmt::Debug for dyn Shape", format!("{shape:?}"));
    case!("impl Iterator for Counter", Counter(0).next());
    case!("impl Drop for Noisy", drop(Noisy));
    case!("trait Animal { fn speak }", Local.speak());
    case!("mod c: impl super::Hello for B", c::B.hi());
    case!("mod c: impl crate::greet::Greet for B", c::B.greet());
    case!(
        "mod c: impl<T: crate::Marker> crate::Blanket for Generic<T>",
        c::Generic(Local).blanket()
    );
    case!(
        "mod c: impl<T: crate::Marker> super::Wave for T",
        Local.wave()
    );
}
