"""The `qianfan` command line: an edge like the API and the workers."""
