pub mod changes;
pub mod plan;
