//! hotline-sip.
