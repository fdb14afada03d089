//! Validation of one Score document, after the load stage has parsed, overridden and upgraded
//! it: the JSON schema ([`schema`]), the rules the schema cannot express ([`rules`]), and the
//! hints that explain older or borrowed forms ([`hints`]). [`crate::load_workload`] runs all three.

pub mod hints;
pub mod rules;
pub mod schema;
