//! Demo data (placeholder).
