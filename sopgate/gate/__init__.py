"""The gate: its rules (`rules`), their findings for a program (`findings`)."""
