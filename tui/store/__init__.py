"""Data layer: SQL, era detection, migration and backfill. Never imports textual."""
