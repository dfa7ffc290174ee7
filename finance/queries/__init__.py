"""Finance read models: named queries that pages, routes, exports, tasks and use cases share (nothing written)."""
