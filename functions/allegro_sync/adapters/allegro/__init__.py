"""Adapter to Allegro's REST API: hosts, errors, the HTTP client, its models and rate guard."""
