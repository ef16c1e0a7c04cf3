mod x {}
mod queueing;
mod support;
