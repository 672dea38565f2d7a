"""The domain: seeds, steps, typed journal records, the story they replay into, and the words
the game uses for model calls and a player's errors. Imports nothing else of the game."""
