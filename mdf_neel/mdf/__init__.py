"""mdf_neel.mdf (under construction)."""
