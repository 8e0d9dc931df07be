"""View → Evolution…: proposals, their tests and the history of the engine configuration (issue 17)."""
