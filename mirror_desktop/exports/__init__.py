"""Export to other formats (issue 15, item 4): Markdown, Day One JSON, HTML and PDF.

A person must be able to leave (spec principle 6). ``run_export`` picks one identity's reflections in
a date range, oldest first, and hands them in batches to a writer; Markdown, JSON and HTML are written
here without Qt, PDF by ``mirror_desktop.render.pdf`` (QTextDocument + QPdfWriter). The window and
``mirror export-to`` call the same function.
"""
