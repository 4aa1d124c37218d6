#!/usr/bin/env python3
"""Extract `POST /images/edits` and every schema it references from OpenAI's
published OpenAPI description into crates/msgflux-emulators/specs/openai/images-edits.json.

The full description lives outside the repository (../shared/specs beside the
checkout); the OpenAI emulator (crates/msgflux-emulators) validates every
multipart body it receives against this committed subset, so a clean clone needs no
network and no 87,000-line file.

    python3 crates/msgflux-emulators/specs/openai/extract.py            # rewrite the subset
    python3 crates/msgflux-emulators/specs/openai/extract.py --check    # exit 1 if the subset is stale

Needs PyYAML. Output is JSON (a subset of YAML) so that the Rust tests read it
with serde_json, without a YAML parser. `x-oaiMeta` blocks (long code samples)
are dropped; everything else is kept verbatim, including the `nullable`
keywords that the 3.1 document carries over from OpenAPI 3.0.
"""

import argparse
import json
import pathlib
import sys

import yaml

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "specs" / "openai-openapi.yaml"
OUTPUT = HERE / "images-edits.json"
PATH = "/images/edits"
# Not referenced by the path, but the shape of every error answer.
EXTRA_SCHEMAS = ["ErrorResponse"]


def strip_meta(node):
    if isinstance(node, dict):
        return {k: strip_meta(v) for k, v in node.items() if k != "x-oaiMeta"}
    if isinstance(node, list):
        return [strip_meta(v) for v in node]
    return node


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def extract(spec):
    operation = strip_meta(spec["paths"][PATH]["post"])
    schemas = spec["components"]["schemas"]
    wanted, queue = {}, [f"#/components/schemas/{name}" for name in EXTRA_SCHEMAS]
    queue += list(refs(operation))
    while queue:
        ref = queue.pop()
        prefix = "#/components/schemas/"
        if not ref.startswith(prefix):
            raise SystemExit(f"unsupported reference {ref}")
        name = ref[len(prefix):]
        if name in wanted:
            continue
        wanted[name] = strip_meta(schemas[name])
        queue.extend(refs(wanted[name]))
    return {
        "openapi": spec["openapi"],
        "info": {
            "title": spec["info"]["title"],
            "version": spec["info"]["version"],
            "x-extracted": f"POST {PATH} and the schemas it references, by crates/msgflux-emulators/specs/openai/extract.py",
        },
        "servers": spec.get("servers", []),
        "paths": {PATH: {"post": operation}},
        "components": {"schemas": dict(sorted(wanted.items()))},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=pathlib.Path, default=DEFAULT_SOURCE)
    parser.add_argument("--check", action="store_true", help="fail if the committed subset differs")
    args = parser.parse_args()
    with open(args.source, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    subset = extract(spec)
    text = json.dumps(subset, indent=2, ensure_ascii=False, default=str) + "\n"
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(REPO)} is stale: run python3 crates/msgflux-emulators/specs/openai/extract.py", file=sys.stderr)
            return 1
        print(f"{OUTPUT.relative_to(REPO)} matches {args.source.name}")
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(REPO)} ({len(text)} bytes, {len(subset['components']['schemas'])} schemas)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
