fn parse(s: &str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = s.parse()?;
    Ok(n)
}

fn main() {
    let n = parse("41").map(|n| n + 1).unwrap_or(0);
    println!("answer {n}");
}
