//! A traced fn's static description (one `static` per fn, made by the runtime's macros) and
//! its name.
//!
//! Names are built in two steps. The transform writes what syntax tells: the name known at
//! compile time, and, when that name cannot be true by itself, the pieces of the true one
//! ([`Piece`]). The pieces are composed here, once per site, on its first call: this module is
//! the one place that knows how a Self type and a relative trait path read at run time.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU8, Ordering};

/// A traced fn's static description, one per fn.
pub struct Site {
    /// The name known at compile time: the true name for a fn outside impls; for a method, the
    /// Self type and trait as written (see [`Site::name`] for the name composed at run time).
    pub name: &'static str,
    /// What `TRACE_FILTER` decided for it, worked out on its first call.
    #[cfg_attr(not(feature = "enable"), allow(dead_code))]
    pub(crate) state: AtomicU8,
    /// Starts the runtime (configuration, collector, hooks): called on each thread's first
    /// traced call, so that the capture layer needs no knowledge of what sits above it.
    #[cfg_attr(not(feature = "enable"), allow(dead_code))]
    pub(crate) start: fn(),
    /// Where the fn is (`module_path!()`), for `crate::` and `super::` in its pieces.
    module: &'static str,
    /// The true name's pieces; empty when `name` is already true.
    pieces: &'static [Piece],
    /// `UNRESOLVED`, `RESOLVING` or `RESOLVED`: whether `composed` holds the composed name.
    resolution: AtomicU8,
    composed: UnsafeCell<&'static str>,
}

// SAFETY: `composed` is written once, by the one caller that moved `resolution` from UNRESOLVED
// to RESOLVING, before it stores RESOLVED with Release; it is read only after an Acquire load
// has seen RESOLVED. Every other field is immutable or atomic.
unsafe impl Sync for Site {}

const UNRESOLVED: u8 = 0;
const RESOLVING: u8 = 1;
const RESOLVED: u8 = 2;

/// A piece of a name composed at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Text as it is.
    Text(&'static str),
    /// The fn's module path (`self::` in a trait path).
    Module,
    /// The crate's root module (`crate::`): the module path's first segment.
    Crate,
    /// The parent of the fn's module (`super::`); each further `Super` right after it climbs
    /// one more level.
    Super,
    /// The impl's Self type as `core::any::type_name` spells it, generic arguments left out:
    /// `alloc::vec::Vec`, `[u8; 4]`, `dyn demo::Shape`.
    SelfType,
    /// The Self type as the qualifier of an inherent fn: bare when it is a path
    /// (`demo::db::Pool`), in angle brackets otherwise (`<[u8; 4]>`).
    SelfQualifier,
}

impl Site {
    /// A site whose compile-time name is true. Called from generated statics.
    pub const fn new(name: &'static str, start: fn()) -> Self {
        Site::composed(name, "", &[], start)
    }

    /// A site whose true name is composed from `pieces` on its first call. Called from
    /// generated statics.
    pub const fn composed(
        name: &'static str,
        module: &'static str,
        pieces: &'static [Piece],
        start: fn(),
    ) -> Self {
        Site {
            name,
            state: AtomicU8::new(0),
            start,
            module,
            pieces,
            resolution: AtomicU8::new(UNRESOLVED),
            composed: UnsafeCell::new(""),
        }
    }

    /// The fn's name: the composed one once [`Site::resolve`] or [`Site::resolve_self`] has
    /// run, the compile-time one before (and always for a site created by [`Site::new`]).
    #[inline]
    pub fn name(&self) -> &'static str {
        if self.resolution.load(Ordering::Acquire) == RESOLVED {
            // SAFETY: RESOLVED was stored with Release after the write (see `impl Sync`).
            unsafe { *self.composed.get() }
        } else {
            self.name
        }
    }

    /// Composes the true name of a site whose pieces need no Self type (a trait path with
    /// `crate::` or `super::` on a generic impl). Called by generated code before the guard.
    #[inline]
    pub fn resolve(&self) {
        if self.resolution.load(Ordering::Relaxed) != RESOLVED {
            self.resolve_cold(None);
        }
    }

    /// Composes the true name with the impl's Self type, `core::any::type_name::<Self>` passed
    /// by generated code (a `static` cannot mention `Self`). Once resolved, one relaxed load.
    #[inline]
    pub fn resolve_self(&self, self_type: fn() -> &'static str) {
        if self.resolution.load(Ordering::Relaxed) != RESOLVED {
            self.resolve_cold(Some(self_type));
        }
    }

    /// Composing allocates, and the allocator may itself be traced: a caller that finds the
    /// site RESOLVING (another thread, or this one re-entered from the allocator) goes on with
    /// the compile-time name rather than wait, so nothing can deadlock or panic on re-entry.
    #[cold]
    #[inline(never)]
    fn resolve_cold(&self, self_type: Option<fn() -> &'static str>) {
        if !cfg!(feature = "enable") {
            return;
        }
        if self
            .resolution
            .compare_exchange(UNRESOLVED, RESOLVING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        let self_type = self_type.map_or("", |f| f());
        let name: &'static str =
            Box::leak(compose(self.module, self.pieces, self_type).into_boxed_str());
        // SAFETY: only the caller that moved UNRESOLVED to RESOLVING gets here, once; readers
        // wait for RESOLVED (see `impl Sync`).
        unsafe { *self.composed.get() = name };
        self.resolution.store(RESOLVED, Ordering::Release);
    }
}

impl Site {
    /// Whether `TRACE_FILTER` leaves this fn out, decided on its first call with `admits`.
    #[cfg(feature = "enable")]
    #[inline(always)]
    pub(crate) fn excluded(&self, admits: impl FnOnce(&str) -> bool) -> bool {
        let state = self.state.load(Ordering::Relaxed);
        if state & FILTER_DECIDED != 0 {
            return state & FILTER_EXCLUDED != 0;
        }
        self.decide(admits)
    }

    #[cfg(feature = "enable")]
    #[cold]
    fn decide(&self, admits: impl FnOnce(&str) -> bool) -> bool {
        let excluded = !admits(self.name());
        let state = FILTER_DECIDED | if excluded { FILTER_EXCLUDED } else { 0 };
        self.state.store(state, Ordering::Relaxed);
        excluded
    }
}

/// `Site::state` bits.
#[cfg(feature = "enable")]
const FILTER_DECIDED: u8 = 1;
#[cfg(feature = "enable")]
const FILTER_EXCLUDED: u8 = 2;

/// The name `pieces` spell for a fn in `module` whose impl's Self type is `self_type` (as
/// `type_name` gives it).
fn compose(module: &str, pieces: &[Piece], self_type: &str) -> String {
    let mut out = String::new();
    let mut rest = pieces.iter().peekable();
    while let Some(piece) = rest.next() {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Module => out.push_str(module),
            Piece::Crate => out.push_str(module.split("::").next().unwrap_or(module)),
            Piece::Super => {
                let mut up = 1;
                while rest.next_if_eq(&&Piece::Super).is_some() {
                    up += 1;
                }
                out.push_str(module.rsplitn(up + 1, "::").last().unwrap_or(module));
            }
            Piece::SelfType => out.push_str(&without_generic_args(self_type)),
            Piece::SelfQualifier => {
                let ty = without_generic_args(self_type);
                if ty
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == ':')
                {
                    out.push_str(&ty);
                } else {
                    out.push('<');
                    out.push_str(&ty);
                    out.push('>');
                }
            }
        }
    }
    out
}

/// A type name with every generic argument list left out, at any depth:
/// `core::option::Option<alloc::vec::Vec<u8>>` reads `core::option::Option`, and
/// `fn(alloc::vec::Vec<u8>) -> u8` reads `fn(alloc::vec::Vec) -> u8` (the `>` of an arrow
/// closes nothing).
fn without_generic_args(ty: &str) -> String {
    let mut out = String::with_capacity(ty.len());
    let mut depth = 0usize;
    let mut prev = ' ';
    for c in ty.chars() {
        match c {
            '<' => depth += 1,
            '>' if prev == '-' && depth == 0 => out.push(c),
            '>' if prev == '-' => {}
            '>' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
        prev = c;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{compose, without_generic_args, Piece};

    #[test]
    fn generic_arguments_are_left_out_at_any_depth() {
        for (type_name, want) in [
            (
                "core::option::Option<alloc::vec::Vec<u8>>",
                "core::option::Option",
            ),
            (
                "fn(alloc::vec::Vec<u8>) -> core::option::Option<u8>",
                "fn(alloc::vec::Vec) -> core::option::Option",
            ),
            (
                "alloc::boxed::Box<dyn core::ops::function::Fn() -> u8>",
                "alloc::boxed::Box",
            ),
            ("[u8; 4]", "[u8; 4]"),
            ("&str", "&str"),
            ("(u8, alloc::string::String)", "(u8, alloc::string::String)"),
            (
                "dyn core::fmt::Debug + core::marker::Send",
                "dyn core::fmt::Debug + core::marker::Send",
            ),
        ] {
            assert_eq!(without_generic_args(type_name), want, "{type_name}");
        }
    }

    #[test]
    fn relative_trait_paths_climb_from_the_module() {
        let pieces = [
            Piece::Text("<"),
            Piece::SelfType,
            Piece::Text(" as "),
            Piece::Super,
            Piece::Super,
            Piece::Text("::Hello>::hi"),
        ];
        assert_eq!(
            compose("a::b::c", &pieces, "a::b::c::B"),
            "<a::b::c::B as a::Hello>::hi"
        );
        let pieces = [Piece::Crate, Piece::Text("::Hello")];
        assert_eq!(compose("a::b", &pieces, ""), "a::Hello");
    }

    #[test]
    fn a_self_type_that_is_not_a_path_qualifies_in_angle_brackets() {
        let pieces = [Piece::SelfQualifier, Piece::Text("::get")];
        assert_eq!(compose("m", &pieces, "m::Pool<u8>"), "m::Pool::get");
        assert_eq!(compose("m", &pieces, "[u8; 4]"), "<[u8; 4]>::get");
    }
}
