"""One model per stored DynamoDB item, a module per table: the attributes, their types and defaults.

The DynamoDB adapters build an item from its model (`Item.item()`) and read one back through it
(`Model.from_item(...)`), so each attribute is named and typed in one place. Each module's docstring gives
the table's key layout; the adapters build the keys. Unknown attributes are ignored when reading: an item
written by an older or newer version still loads.
"""
