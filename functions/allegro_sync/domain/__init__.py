"""allegro_sync.domain."""
