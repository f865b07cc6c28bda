"""MLflow's search language: tokenizer, grammar, per-entity rules, ORM compilation and paging.

``lexer`` and ``grammar`` know nothing about entities; ``rules`` holds the ``SearchSpec`` tables
and the validator; ``runs`` and ``experiments`` define their specs and turn validated clauses and
``order_by`` keys into ORM filters and orderings; ``conditions`` holds the comparisons that behave
the same on every database; ``paging`` makes and reads page tokens. spec: search.md.
"""
