"""Finance read models: named queries shared by pages, routes, exports and tasks."""
