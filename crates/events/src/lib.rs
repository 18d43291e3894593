//! hotline-events.
