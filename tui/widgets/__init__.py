"""Widgets of the app; none of them touches SQL."""
