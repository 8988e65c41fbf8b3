"""The clinic assistant's application: settings, lead store, notices to staff, web app."""
