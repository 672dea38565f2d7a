"""`recurrent serve`: the game in a browser (our page, the token check, one game process per tab)."""
