//! What production balancers wrap around an algorithm so that a pool
//! survives its backends: slow start, outlier ejection and the panic
//! threshold. Pure: every function takes the time it needs.

pub mod outlier;
pub mod panic;
pub mod slow_start;
