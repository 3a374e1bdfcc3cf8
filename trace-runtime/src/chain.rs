//! The chain API: which traced calls led to the current one.

use std::fmt;
use std::ops::Deref;

/// The current thread's chain of traced calls, outermost first.
///
/// With tracing off (the runtime's `enable` feature not set) it is always empty.
///
/// ```
/// let chain = trace_runtime::chain();
/// // Outside any traced fn the chain is empty.
/// assert!(chain.is_empty());
/// println!("called via {chain}"); // "a -> b -> c" inside traced code
/// ```
pub fn chain() -> Chain {
    #[cfg(feature = "enable")]
    {
        Chain {
            names: crate::capture::thread::current_chain(),
        }
    }
    #[cfg(not(feature = "enable"))]
    {
        Chain { names: Vec::new() }
    }
}

/// A call chain: fully qualified fn names, outermost first. Displays as `a -> b -> c`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Chain {
    names: Vec<&'static str>,
}

impl Chain {
    /// The names, outermost first.
    pub fn names(&self) -> &[&'static str] {
        &self.names
    }

    /// The innermost (current) traced fn, if any.
    pub fn innermost(&self) -> Option<&'static str> {
        self.names.last().copied()
    }

    /// Whether some fn on the chain is named `name` or ends with `::name`.
    ///
    /// ```
    /// assert!(!trace_runtime::chain().passes_through("a1"));
    /// ```
    pub fn passes_through(&self, name: &str) -> bool {
        self.names
            .iter()
            .any(|n| crate::filter::ends_with_segment(n, name))
    }
}

impl Deref for Chain {
    type Target = [&'static str];
    fn deref(&self) -> &[&'static str] {
        &self.names
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.names.iter().enumerate() {
            if i > 0 {
                f.write_str(" -> ")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_outermost_first() {
        let c = Chain {
            names: vec!["demo::a1", "demo::b1", "demo::d"],
        };
        assert_eq!(c.to_string(), "demo::a1 -> demo::b1 -> demo::d");
        assert_eq!(c.innermost(), Some("demo::d"));
        assert!(c.passes_through("b1"));
        assert!(c.passes_through("demo::b1"));
        assert!(!c.passes_through("1"));
    }
}
