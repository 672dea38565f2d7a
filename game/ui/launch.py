"""`recurrent play`: read the command line, then run the app (the same factory the tests use).

Problems the player can fix (a bad story file, bad settings) are raised before the app
starts, so the command line prints them as one line; everything after is shown in the UI.
"""
from __future__ import annotations


def play(args) -> int:
    from game.session import Shelf, SlotError, check_name, saves_root, settings_from
    from game.ui.app import make_app

    settings = settings_from(args)
    saves = saves_root(args, settings)
    if settings.gguf:
        from game.session.checks import check_gguf

        check_gguf(settings.gguf)  # a wrong model path is one line here, not a surprise mid-game
    seed = None
    story = getattr(args, "story", None)
    slot = getattr(args, "slot", None)
    if story:
        from game.stories.shelf import load_story

        seed = load_story(story, getattr(args, "opening", 1)).filled()
        if slot:
            check_name(slot)
            if (saves / slot).exists():
                raise SlotError(f"slot {slot} already exists in {saves}; resume it with --slot {slot} alone")
    elif slot:
        check_name(slot)
        if slot not in Shelf(saves).names():
            raise SlotError(f"no slot named {slot} in {saves}; start one with --story NAME --slot {slot}")
    app = make_app(settings=settings, saves=saves, story=seed, slot=slot)
    app.run()
    return int(app.return_code or 0)


def edit(seed_file, args) -> int:
    """`recurrent stories edit`: the studio on its own (leaving it ends the game)."""
    from game.session import saves_root, settings_from
    from game.ui.app import make_app

    settings = settings_from(args)
    app = make_app(settings=settings, saves=saves_root(args, settings), edit=seed_file)
    app.run()
    return int(app.return_code or 0)
