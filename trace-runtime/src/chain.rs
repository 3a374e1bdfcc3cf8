//! The chain API: which traced calls led to the current one.

use std::fmt;
use std::ops::Deref;

/// The chain of traced calls that led here, outermost first, across spawns: inside a task, the
/// chain of the call that created the task's future comes first (and, if that call ran in a
/// task too, the chain that spawned that one, and so on); on a thread started with
/// [`crate::thread::spawn`] or an adopted [`crate::thread::Origin`], the chain that started it.
///
/// With tracing off (the runtime's `enable` feature not set) it is always empty.
///
/// ```
/// let chain = trace_runtime::chain();
/// // Outside any traced fn the chain is empty.
/// assert!(chain.is_empty());
/// println!("called via {chain}"); // "main -> serve -> handle => process -> d" inside a task
/// ```
pub fn chain() -> Chain {
    #[cfg(feature = "enable")]
    {
        let (names, spawns) = crate::capture::node::current_chain();
        Chain { names, spawns }
    }
    #[cfg(not(feature = "enable"))]
    {
        Chain::default()
    }
}

/// A call chain: fully qualified fn names, outermost first. Displays as `a -> b -> c`, with `=>`
/// where the chain crosses a spawn (`main -> serve => process -> d`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Chain {
    names: Vec<&'static str>,
    /// Indices of the first name after each spawn.
    spawns: Vec<usize>,
}

impl Chain {
    /// Where the chain crosses spawns: the index in [`Chain::names`] of the first fn run by each
    /// spawned task or thread.
    ///
    /// ```
    /// assert!(trace_runtime::chain().spawns().is_empty());
    /// ```
    pub fn spawns(&self) -> &[usize] {
        &self.spawns
    }

    /// The part of the chain run by the current task or thread: after the last spawn.
    ///
    /// ```
    /// let chain = trace_runtime::chain();
    /// assert!(chain.local().len() <= chain.names().len());
    /// ```
    pub fn local(&self) -> &[&'static str] {
        &self.names[self.spawns.last().copied().unwrap_or(0)..]
    }

    /// The names, outermost first.
    ///
    /// ```
    /// for name in trace_runtime::chain().names() {
    ///     println!("{name}");
    /// }
    /// ```
    pub fn names(&self) -> &[&'static str] {
        &self.names
    }

    /// The innermost (current) traced fn, if any.
    ///
    /// ```
    /// // Outside any traced fn, or with tracing off, there is none.
    /// assert_eq!(trace_runtime::chain().innermost(), None);
    /// ```
    pub fn innermost(&self) -> Option<&'static str> {
        self.names.last().copied()
    }

    /// Whether some fn on the chain is one `name` means, by the rule `TRACE_FILTER` and
    /// `TRACE_FOCUS` use (its full name, or whole `::` segments at its end or start).
    ///
    /// ```
    /// assert!(!trace_runtime::chain().passes_through("a1"));
    /// ```
    pub fn passes_through(&self, name: &str) -> bool {
        let term = crate::filter::Term::new(name);
        self.names.iter().any(|n| term.matches(n))
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
        let steps =
            (self.names.iter().enumerate()).map(|(i, name)| (*name, self.spawns.contains(&i)));
        crate::units::write_chain(f, steps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_outermost_first() {
        let c = Chain {
            names: vec!["demo::a1", "demo::b1", "demo::d"],
            spawns: vec![2],
        };
        assert_eq!(c.to_string(), "demo::a1 -> demo::b1 => demo::d");
        assert_eq!(c.local(), ["demo::d"]);
        assert_eq!(c.innermost(), Some("demo::d"));
        assert!(c.passes_through("b1"));
        assert!(c.passes_through("demo::b1"));
        assert!(!c.passes_through("1"));
    }
}
