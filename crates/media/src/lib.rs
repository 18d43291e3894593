//! hotline-media.
