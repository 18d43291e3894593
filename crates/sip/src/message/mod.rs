//! SIP messages (in progress).
