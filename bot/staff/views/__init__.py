"""The staff pages' handlers, grouped by page: signing in, the leads, the reports."""
