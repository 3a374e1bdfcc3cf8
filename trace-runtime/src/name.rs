//! How the runtime composes a traced fn's true name from the pieces the transform wrote: the
//! one place that knows how a Self type (as `type_name` gives it, generic arguments left out)
//! and a relative trait path (`crate::`, `super::`) read at run time.
//!
//! The pieces syntax knows are spelled by `trace_transform::name` (`NamePiece`, and their
//! tokens); `__private`'s macros turn those tokens into [`Piece`]s. The two crates keep one
//! owner each rather than share a type: the transform cannot depend on the runtime (the
//! runtime depends on `trace-runtime-macros`, which depends on the transform), the runtime must not
//! depend on the transform (its library would depend on `syn`, where the runtime's dependencies
//! must stay tiny), and a third crate for one enum would be one more crate every user's build resolves and
//! `instrument` pins. The transform's pieces are `String`s written at compile time; these are
//! `&'static str`s in a `static`; the token form between them is checked by every traced fn
//! that compiles (`examples/src/bin/names.rs`, `tests/ui/pass/`).

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

/// The name `pieces` spell for a fn in `module` whose impl's Self type is `self_type` (as
/// `type_name` gives it).
pub fn compose(module: &str, pieces: &[Piece], self_type: &str) -> String {
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
