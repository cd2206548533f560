"""``python -m jaxsynth.fuzz ...``: the ``jaxsynth fuzz`` command without the top-level CLI."""

from jaxsynth.fuzz.command import main

if __name__ == "__main__":
    main()
