"""Qt rendering that is not a widget (issue 15): the PDF book of the Markdown export family.

The one layer besides workers/ and ui/ that may import PySide6 (QtGui only, never widgets), so the
CLI can make a PDF with an offscreen QGuiApplication without importing the window. It reads the
journal only through what exports/ hands it.
"""
