//! Examples package: the programs are under `examples/`.
