"""The pages, one module each: what a page shows (built in a worker thread) and its actions."""
