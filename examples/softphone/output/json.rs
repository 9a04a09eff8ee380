//! `--json`: every event as one JSON object on its own line, for scripts.
