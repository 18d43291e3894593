//! hotline-dialplan.
