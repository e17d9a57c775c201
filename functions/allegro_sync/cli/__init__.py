"""allegro_sync.cli."""
