"""allegro_sync.handlers."""
