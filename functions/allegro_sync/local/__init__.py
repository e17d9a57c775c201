"""allegro_sync.local."""
