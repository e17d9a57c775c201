"""The CDK app: one stack generated from allegro_sync.topology."""
