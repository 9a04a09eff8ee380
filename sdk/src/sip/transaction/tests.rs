//! Unit tests of the transaction state machines, driven with a fake clock.
