//! C API of ocer (grows with the C API issue).
