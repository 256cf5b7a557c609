"""Helpers shared by the pilot and snapshot tests of the app."""
