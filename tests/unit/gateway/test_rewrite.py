"""Pod URLs rewritten to Atoll's in bodies and headers (`Rewriter`)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from atoll.gateway.rewrite import Rewriter

PAIRS = {
    "http://10.0.0.5:8774": "https://atoll.example/compute",
    "http://10.0.0.5:8776": "https://atoll.example/volume",
    "http://10.0.0.5/image": "https://atoll.example/image",
    "http://10.0.0.5/image/v2x": "https://atoll.example/other",
    "http://10.0.0.6": "https://atoll.example/network",
}


def reference(pairs: dict[str, str], data: str) -> str:
    """What the rewriting means: left to right, the longest root followed by `/` or `"` replaced."""
    roots = sorted(pairs, key=len, reverse=True)
    out, at = [], 0
    while at < len(data):
        root = next(
            (r for r in roots if data.startswith(r, at) and data[at + len(r) : at + len(r) + 1] in ("/", '"')), None
        )
        if root is None:
            out.append(data[at])
            at += 1
        else:
            out.append(pairs[root])
            at += len(root)
    return "".join(out)


def test_roots_are_rewritten_where_a_path_or_a_string_ends_after_them() -> None:
    rewriter = Rewriter(PAIRS)
    body = (
        '{"links": [{"href": "http://10.0.0.5:8774/v2.1/servers/a"}, {"href": "http://10.0.0.5:8774"}],'
        ' "image": "http://10.0.0.5/image/v2/images/i", "x": "http://10.0.0.5/image/v2x/y",'
        ' "not": "http://10.0.0.5:87745/a", "port": "http://10.0.0.6:9696/v2.0", "net": "http://10.0.0.6/n"}'
    )
    assert rewriter.body(body.encode()).decode() == (
        '{"links": [{"href": "https://atoll.example/compute/v2.1/servers/a"}, {"href": "https://atoll.example/compute"}],'
        ' "image": "https://atoll.example/image/v2/images/i", "x": "https://atoll.example/other/y",'
        ' "not": "http://10.0.0.5:87745/a", "port": "http://10.0.0.6:9696/v2.0", "net": "https://atoll.example/network/n"}'
    )
    assert rewriter.url("http://10.0.0.5:8776/v3/p/volumes/v") == "https://atoll.example/volume/v3/p/volumes/v"
    assert rewriter.url("http://10.0.0.5:8776") == "https://atoll.example/volume"
    assert rewriter.body(b"no url here") == b"no url here"


def test_nothing_to_rewrite_leaves_the_body_alone() -> None:
    assert Rewriter({}).body(b'{"a": "http://x/"}') == b'{"a": "http://x/"}'
    assert Rewriter({"http://x": "http://x"}).body(b'{"a": "http://x/"}') == b'{"a": "http://x/"}'


pieces = st.sampled_from([*PAIRS, "/", '"', "http://10.0.0.", ":8774", "x", "é", "\\"])


@given(st.lists(pieces, max_size=30))
def test_the_one_pass_rewrite_is_the_longest_root_left_to_right(parts: list[str]) -> None:
    data = "".join(parts)
    assert Rewriter(PAIRS).body(data.encode()).decode() == reference(PAIRS, data)
