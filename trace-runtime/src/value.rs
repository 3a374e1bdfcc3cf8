//! Values a traced fn records (`#[trace(args, ret, err)]`): what generated code hands over
//! ([`Value`], [`Arg`]), chosen at compile time by [`debug_arg`], [`debug_ret`] and [`Probe`].

use core::fmt::Debug;

/// A value as generated code hands it over: formatted only when the call is recorded.
#[derive(Clone, Copy)]
pub enum Value<'a> {
    /// Its `Debug` text.
    Debug(&'a dyn Debug),
    /// A value whose type is not `Debug`: its type name (an `err` value), or nothing (a plain
    /// `args` argument, left out).
    Opaque(&'static str),
}

/// One argument: its name and value.
#[derive(Clone, Copy)]
pub struct Arg<'a>(pub &'static str, pub Value<'a>);

/// An argument named in `args(..)`: its type must be `Debug`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `Debug`, so #[trace] cannot record this argument",
    label = "not `Debug`: leave it out with `skip(..)` (or name only the others in `args(..)`)",
    note = "#[trace(args(..))] records each argument it names with its `Debug` text"
)]
pub trait DebugArg: Debug {}
impl<T: Debug> DebugArg for T {}

/// The value `ret` records: its type must be `Debug`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `Debug`, so #[trace(ret)] cannot record it",
    label = "the return value is not `Debug`: remove `ret` (an `err` alone needs no `Debug`)",
    note = "#[trace(ret)] records the return value with its `Debug` text"
)]
pub trait DebugRet: Debug {}
impl<T: Debug> DebugRet for T {}

/// An argument named in `args(..)`.
#[inline(always)]
pub fn debug_arg<T: DebugArg>(value: &T) -> Value<'_> {
    Value::Debug(value)
}

/// A return value `ret` records.
#[inline(always)]
pub fn debug_ret<T: DebugRet>(value: &T) -> Value<'_> {
    Value::Debug(value)
}

/// Autoref specialization: `(&Probe(&v)).__trace_value()` is `v`'s `Debug` text where its type
/// is `Debug` ([`ProbeDebug`], found first), and its type name otherwise ([`ProbeName`], found
/// after one more autoref): never a compile error, even for a generic type without the bound.
///
/// ```
/// use trace_runtime::__private::{Probe, ProbeDebug as _, ProbeName as _, Value};
/// struct Opaque;
/// assert!(matches!((&Probe(&42)).__trace_value(), Value::Debug(_)));
/// assert!(matches!((&Probe(&Opaque)).__trace_value(), Value::Opaque(name) if name.ends_with("Opaque")));
/// ```
pub struct Probe<'a, T>(pub &'a T);

/// The `Debug` side of [`Probe`].
pub trait ProbeDebug<'a> {
    fn __trace_value(&self) -> Value<'a>;
}

impl<'a, T: Debug> ProbeDebug<'a> for Probe<'a, T> {
    #[inline(always)]
    fn __trace_value(&self) -> Value<'a> {
        Value::Debug(self.0)
    }
}

/// The fallback side of [`Probe`]: the type's name.
pub trait ProbeName<'a> {
    fn __trace_value(&self) -> Value<'a>;
}

impl<'a, T> ProbeName<'a> for &Probe<'a, T> {
    #[inline(always)]
    fn __trace_value(&self) -> Value<'a> {
        Value::Opaque(core::any::type_name::<T>())
    }
}
