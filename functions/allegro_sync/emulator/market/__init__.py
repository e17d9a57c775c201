"""The emulated marketplace's parts: catalogue, offers, commands, price automation, orders, pricing.

Each module is a set of route handlers over one shared `MarketState`; `Marketplace` (one level up)
owns the lock, the routing table and the access rules.
"""
