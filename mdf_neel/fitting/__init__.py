"""mdf_neel.fitting (under construction)."""
