"""Views of the shot document: timeline, canvas (with onion skin), generate and layer panels."""
