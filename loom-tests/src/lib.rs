//! Loom models live in `tests/`; this crate only exists to build them under `--cfg loom`.
