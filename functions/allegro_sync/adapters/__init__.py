"""allegro_sync.adapters."""
