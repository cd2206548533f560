"""``python -m jaxsynth ...``: the ``jaxsynth`` command."""

from jaxsynth.cli import main

if __name__ == "__main__":
    main()
