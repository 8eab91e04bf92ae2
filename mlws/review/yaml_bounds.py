"""A branch's YAML file, measured before anything builds it: one file must not hide the review.

A few hundred bytes of nested aliases expand to millions of nodes when OmegaConf copies them, and
20,000 nested `[` overflow the recursive composer. PyYAML's event parser (libyaml's, where
installed) is a loop with its own stack, so the file is walked event by event here: nesting depth and the size the file would expand
to (each alias counted at its anchor's full size) are bounded without building anything.
"""

from __future__ import annotations

import time

MAX_DEPTH = 64  # real configs nest a handful of levels
MAX_NODES = 100_000  # after alias expansion; the example experiments have a few hundred
MAX_SECONDS = 5.0  # per file, whatever else goes wrong
MAX_INTERPOLATION_DEPTH = 16  # `${a:${b:${c:...}}}`: OmegaConf's parser recurses per level


def yaml_bound_problem(text: str) -> str | None:
    """Pure: why this text must not be composed (too deep, expands too far, too slow to read), or
    None. Syntax errors are left to the composer, which names the line."""
    import yaml

    started = time.monotonic()
    sizes: dict[str, int] = {}  # anchor -> expanded size of its node
    stack: list[list] = []  # open collections: [size so far, anchor]
    open_anchors: set[str] = set()
    total = 0
    try:
        for i, event in enumerate(yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))):
            if i % 1000 == 0 and time.monotonic() - started > MAX_SECONDS:
                return f"takes over {MAX_SECONDS:.0f} s to read"
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                stack.append([1, event.anchor])
                if event.anchor:
                    open_anchors.add(event.anchor)
                if len(stack) > MAX_DEPTH:
                    return f"nests deeper than {MAX_DEPTH} levels"
                continue
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                size, anchor = stack.pop()
            elif isinstance(event, yaml.ScalarEvent):
                size, anchor = 1, event.anchor
                if "${" in event.value and interpolation_depth(event.value) > MAX_INTERPOLATION_DEPTH:
                    return f"nests interpolations deeper than {MAX_INTERPOLATION_DEPTH} levels"
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor in open_anchors:
                    return "contains itself (a recursive YAML alias)"
                size, anchor = sizes.get(event.anchor, 1), None
            else:
                continue
            if anchor:
                sizes[anchor] = size
                open_anchors.discard(anchor)
            if stack:
                stack[-1][0] += size
                if stack[-1][0] > MAX_NODES:
                    return f"expands to over {MAX_NODES:,} values (YAML aliases)"
            else:
                total += size
                if total > MAX_NODES:
                    return f"expands to over {MAX_NODES:,} values (YAML aliases)"
    except yaml.YAMLError as e:
        if "nesting depth" in str(e):  # libyaml's own limit, met before the events get here
            return f"nests deeper than {MAX_DEPTH} levels"
        return None  # a syntax error: composing names its line
    return None


def interpolation_depth(text: str) -> int:
    """Pure: how deep `${` opens nest in text (a close brace ends the innermost)."""
    depth = deepest = 0
    i = 0
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            deepest = max(deepest, depth)
            i += 2
            continue
        if text[i] == "}" and depth:
            depth -= 1
        i += 1
    return deepest
