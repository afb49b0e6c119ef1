"""The read-only pages (timeline, fleet dashboard): their views, shell and inline assets."""
