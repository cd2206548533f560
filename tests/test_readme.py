"""The README's example program is real: it is exactly what the sampler renders today."""

from __future__ import annotations

import re
from pathlib import Path

from jaxsynth.grammar import load_config
from jaxsynth.synth import render, sample

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_examples_are_the_rendered_programs():
    text = README.read_text()
    matches = list(re.finditer(r"Program (\d+) of `--config ([\w-]+) --seed (\d+)`.*?```python\n(.*?)```", text,
                               re.S))
    assert len(matches) >= 2, "README example blocks not found"
    for match in matches:
        index, name, seed, source = int(match[1]), match[2], int(match[3]), match[4]
        assert source == render(sample(load_config(name), seed, index)), (name, index)
