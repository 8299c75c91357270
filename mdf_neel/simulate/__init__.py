"""mdf_neel.simulate (under construction)."""
