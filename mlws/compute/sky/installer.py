"""Which installer a node's setup uses: SkyPilot's own uv when the node has it, else pip.

SkyPilot's runtime installs uv at ~/.local/bin/uv on every node it provisions (sky/skylet/constants.py,
SKY_UV_INSTALL_CMD) and creates ~/sky-user-env with it. `uv pip install` unpacks torch and the training
core several times faster than pip (no per-file Python work, no bytecode compiled up front: a module is
compiled when first imported; each file unpacked once into uv's cache and hard-linked into the
environment, where a copy would write the 1-3 GB of torch a second time), and setup is billed at GPU price × nodes on every launch and every spot
recovery, so the setup prefers it. It installs into the interpreter `pip` would have used (the `python`
on PATH: the activated user env, a conda env), never a new one.

pip stays the installer where uv would read other package sources than pip: an image with a pip.conf (a
company mirror; uv does not read it). pip's own variables (PIP_INDEX_URL, PIP_EXTRA_INDEX_URL,
PIP_FIND_LINKS, PIP_CERT, set by a task's envs) are handed to uv, with pip's rule of the best version across all
indexes (UV_INDEX_STRATEGY=unsafe-best-match) where there is more than one.
"""

from __future__ import annotations

UV = '"$HOME/.local/bin/uv"'  # where SkyPilot's runtime puts it (SKY_UV_INSTALL_DIR)

# A pip.conf that pip reads (PIP_CONFIG_FILE=/dev/null: none is read); each path of pip's config search.
_PIP_CONF = (
    'mlws_pip_conf() { [ "${PIP_CONFIG_FILE:-}" = /dev/null ] && return 1; '
    'for f in "${PIP_CONFIG_FILE:-}" /etc/pip.conf /etc/xdg/pip/pip.conf "$HOME/.config/pip/pip.conf" '
    '"$HOME/.pip/pip.conf" "${VIRTUAL_ENV:-/nonexistent}/pip.conf"; do '
    '[ -n "$f" ] && [ -f "$f" ] && return 0; done; return 1; }'
)

_UV_PIP = (
    "mlws_pip() { ( export UV_SYSTEM_PYTHON=false; "
    # files hard-linked from uv's cache, not written twice (uv copies where the cache is on another disk)
    + '[ -z "${UV_LINK_MODE:-}" ] && export UV_LINK_MODE=hardlink; '
    + "".join(
        f'[ -n "${{PIP_{pip}:-}}" ] && [ -z "${{{uv}:-}}" ] && export {uv}="$PIP_{pip}"; '
        for pip, uv in (
            ("INDEX_URL", "UV_INDEX_URL"),
            ("EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL"),
            ("FIND_LINKS", "UV_FIND_LINKS"),
            ("CERT", "SSL_CERT_FILE"),
        )
    )
    + '[ -n "${UV_EXTRA_INDEX_URL:-}" ] && [ -z "${UV_INDEX_STRATEGY:-}" ] && export UV_INDEX_STRATEGY=unsafe-best-match; '
    + f'exec {UV} pip "$1" --python "$(command -v python)" "${{@:2}}" ); }}'
)

# One line: defines mlws_pip (`mlws_pip install ARGS`), said in the setup's log.
PRELUDE = (
    f"{_PIP_CONF}; "
    f'if {UV} --version >/dev/null 2>&1 && ! mlws_pip_conf; then {_UV_PIP}; echo "mlws: installing with uv"; '
    'else mlws_pip() { pip "$@"; }; echo "mlws: installing with pip"; fi'
)
