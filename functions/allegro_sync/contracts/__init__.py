"""Contracts: what crosses a boundary, as models that import nothing else of the project.

- `allegro`, `allegro_errors`: Allegro's requests, responses and error answers;
- `messages`: one model per queue message (what producers build and consumers parse);
- `records`: one model per stored DynamoDB item;
- the other modules: the values, errors and ports that use cases and adapters exchange.

Rule (checked by import-linter in `make lint`): a module here imports only the standard library, pydantic and
other modules of this package, so every layer may depend on it and it depends on none.
"""
