"""Sampling programs from a grammar config, rendering them as Python, and analysing them as graphs."""

from jaxsynth.synth.graph import depth, hash_and_depth, node_count, structural_hash, to_networkx, topological_order
from jaxsynth.synth.interpret import evaluate, random_inputs
from jaxsynth.synth.program import Node, Program, Region
from jaxsynth.synth.render import render, render_module
from jaxsynth.synth.sample import Draw, sample

__all__ = [
    "Draw",
    "Node",
    "Program",
    "Region",
    "depth",
    "evaluate",
    "hash_and_depth",
    "node_count",
    "random_inputs",
    "render",
    "render_module",
    "sample",
    "structural_hash",
    "to_networkx",
    "topological_order",
]
