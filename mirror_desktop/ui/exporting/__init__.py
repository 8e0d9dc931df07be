"""File → Export as… (issue 15): Markdown, Day One JSON, HTML or PDF of one identity's reflections."""
