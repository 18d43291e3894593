//! Property tests of the engine.
