"""pm-agent's store (placeholder while the repositories land)."""
