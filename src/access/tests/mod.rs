//! Access-control tests that need crate-private constructors (customer principals, the
//! built-in matrix).

mod docs;
mod matrix;
mod policy_props;
