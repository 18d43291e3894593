//! dialog (in progress).
