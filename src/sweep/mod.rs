//! Parallel replications.
