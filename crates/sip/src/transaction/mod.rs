//! SIP transactions (in progress).
