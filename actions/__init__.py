"""Custom actions for Rasa: thin adapters from the conversation to `bot`."""
