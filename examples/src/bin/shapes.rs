//! `#[trace]` on a trait, a trait impl, an impl block and an inline module, with an opt-out.
//!
//! ```text
//! cargo run -p trace-examples --bin shapes --features trace
//! ```

use trace_runtime::trace;

#[trace]
mod zoo {
    /// Every default method of a traced trait is traced.
    pub trait Animal {
        fn name(&self) -> String;

        fn speak(&self) -> String {
            format!("{} says {}", self.name(), self.sound())
        }

        fn sound(&self) -> &'static str;
    }

    pub struct Cat;

    impl Animal for Cat {
        fn name(&self) -> String {
            "cat".to_string()
        }

        fn sound(&self) -> &'static str {
            "meow"
        }
    }

    pub mod db {
        pub struct Pool {
            pub size: u32,
        }

        impl Pool {
            pub fn get(&self) -> u32 {
                self.checked(self.size)
            }

            /// Opted out: no lines for this one.
            #[trace(skip)]
            fn checked(&self, n: u32) -> u32 {
                n.max(1)
            }

            /// Skipped silently inside a traced item: a const fn cannot hold a guard.
            pub const fn limit() -> u32 {
                8
            }
        }
    }
}

#[trace]
fn main() {
    use zoo::Animal;
    println!("{}", zoo::Cat.speak());
    let pool = zoo::db::Pool {
        size: zoo::db::Pool::limit(),
    };
    println!("pool gives {}", pool.get());
}
