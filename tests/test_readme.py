"""The README's example program is real: it is exactly what the sampler renders today."""

from __future__ import annotations

import re
from pathlib import Path

from jaxsynth.grammar import load_config
from jaxsynth.synth import render, sample

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_example_is_the_rendered_program():
    text = README.read_text()
    match = re.search(r"Program (\d+) of `--config ([\w-]+) --seed (\d+)`.*?```python\n(.*?)```", text, re.S)
    assert match, "README example block not found"
    index, name, seed, source = int(match[1]), match[2], int(match[3]), match[4]
    assert source == render(sample(load_config(name), seed, index))
