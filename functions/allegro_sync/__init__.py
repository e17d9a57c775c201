"""allegro-sync: a serverless bridge between an online shop and the Allegro marketplace."""

__version__ = "0.1.0"
