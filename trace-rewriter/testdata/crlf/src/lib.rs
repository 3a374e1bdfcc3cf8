//! BOM, CRLF and tabs.

pub fn tabbed(a: u32) -> u32 {
	// a tab-indented comment
	a * 2
}

pub fn one_line() -> u32 { 1 }
