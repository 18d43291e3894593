//! hotline-routing.
