//! The engine on a simulated call model.
