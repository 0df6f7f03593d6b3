//! flowhound on Apache DataFusion Ballista.
