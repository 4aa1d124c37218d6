//! Image and mask utilities (being built).
