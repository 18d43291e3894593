//! Importing a 100,000-row campaign list.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

fn main() {}
