"""allegro_sync.services."""
