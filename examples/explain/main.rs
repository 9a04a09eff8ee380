//! explain
fn main() {}
