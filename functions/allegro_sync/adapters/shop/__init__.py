"""Shop adapters: what a shop platform sends (generic signed JSON, WooCommerce) -> shop events."""
