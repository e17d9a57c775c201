"""allegro_sync.emulator."""
