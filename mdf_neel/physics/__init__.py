"""mdf_neel.physics (under construction)."""
