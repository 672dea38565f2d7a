"""Recurrent: interactive fiction told by a language model, with a memory that lasts."""

__version__ = "0.1.0"
