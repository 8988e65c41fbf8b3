"""The clinic's public web app: the article page with the chat widget and the chat relay to Rasa."""

from bot.web.app import create_app, serve

__all__ = ["create_app", "serve"]
