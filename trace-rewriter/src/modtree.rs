//! Following `mod name;` declarations to files the way rustc does: `name.rs` or `name/mod.rs`,
//! beside a crate root or `mod.rs`, under `stem/` for other files, through inline modules, and
//! `#[path]` wherever it appears.

use std::path::{Path, PathBuf};

use trace_transform::rules::is_cfg_test;

/// One `mod name;` in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModDecl {
    pub name: String,
    /// `#[path = "..."]` on it.
    pub path_attr: Option<String>,
    /// The inline `mod a { mod b { ... } }` it sits in, outermost first, with their `#[path]`s.
    pub inline: Vec<(String, Option<String>)>,
    /// Only compiled in test builds (`#[cfg(test)]` on it or on an enclosing inline module).
    pub test_only: bool,
    /// Behind some other `#[cfg]`: a missing file is then a warning, not an error.
    pub conditional: bool,
    pub line: usize,
    pub column: usize,
}

/// The `mod name;` declarations of a file, inline modules searched too.
pub fn declarations(file: &syn::File) -> Vec<ModDecl> {
    let mut out = Vec::new();
    collect(&file.items, &mut Vec::new(), false, false, &mut out);
    out
}

fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

fn collect(
    items: &[syn::Item],
    inline: &mut Vec<(String, Option<String>)>,
    test_only: bool,
    conditional: bool,
    out: &mut Vec<ModDecl>,
) {
    for item in items {
        let syn::Item::Mod(m) = item else { continue };
        let test_only = test_only || is_cfg_test(&m.attrs);
        let conditional = conditional || m.attrs.iter().any(|a| a.path().is_ident("cfg"));
        match &m.content {
            None => {
                let at = m.ident.span().start();
                out.push(ModDecl {
                    name: m.ident.to_string(),
                    path_attr: path_attr(&m.attrs),
                    inline: inline.clone(),
                    test_only,
                    conditional,
                    line: at.line,
                    column: at.column + 1,
                });
            }
            Some((_, items)) => {
                inline.push((m.ident.to_string(), path_attr(&m.attrs)));
                collect(items, inline, test_only, conditional, out);
                inline.pop();
            }
        }
    }
}

/// A source file of the module tree and how its own children are found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModFile {
    pub path: PathBuf,
    /// `crate::a::b`.
    pub module: String,
    /// A crate root, a `mod.rs`, or a file reached through `#[path]`: its children sit beside it.
    /// Otherwise (`a.rs`) they sit in `a/`.
    pub owns_dir: bool,
}

/// The file a declaration in `parent` names.
pub fn resolve(parent: &ModFile, decl: &ModDecl) -> Result<ModFile, String> {
    let here = parent.path.parent().unwrap_or_else(|| Path::new("."));
    let mut dir = if parent.owns_dir {
        here.to_path_buf()
    } else {
        let stem = parent.path.file_stem().unwrap_or_default();
        here.join(stem)
    };
    for (name, path) in &decl.inline {
        dir = match path {
            Some(p) => dir.join(p),
            None => dir.join(name),
        };
    }
    let mut module = parent.module.clone();
    for (name, _) in &decl.inline {
        module.push_str("::");
        module.push_str(name);
    }
    module.push_str("::");
    module.push_str(&decl.name);
    if let Some(p) = &decl.path_attr {
        let anchor = if decl.inline.is_empty() {
            here.to_path_buf()
        } else {
            dir
        };
        let path = anchor.join(p);
        if !path.is_file() {
            return Err(format!(
                "file not found for module `{}`: #[path = {p:?}] names {}, which does not exist",
                decl.name,
                path.display()
            ));
        }
        return Ok(ModFile {
            path,
            module,
            owns_dir: true,
        });
    }
    let flat = dir.join(format!("{}.rs", decl.name));
    let nested = dir.join(&decl.name).join("mod.rs");
    match (flat.is_file(), nested.is_file()) {
        (true, false) => Ok(ModFile {
            path: flat,
            module,
            owns_dir: false,
        }),
        (false, true) => Ok(ModFile {
            path: nested,
            module,
            owns_dir: true,
        }),
        (true, true) => Err(format!(
            "module `{}` is found at both {} and {}; rustc rejects this too",
            decl.name,
            flat.display(),
            nested.display()
        )),
        (false, false) => Err(format!(
            "file not found for module `{}`: looked for {} and {}",
            decl.name,
            flat.display(),
            nested.display()
        )),
    }
}
